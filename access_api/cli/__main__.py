from access_api.cli import main

main()
