"""validate the bag (RFC 8493) and against the submission profile, cheapest checks first.

A TT 05 package that arrived without BagIt (``ingest.unbagged``) is checked against its METS
instead, and the BagIt profile is recorded as not performed.

Digests are not computed here: the one read pass of ``scan_viruses`` computes them together
with the virus scan, and compares them with the manifests there.
"""

from __future__ import annotations

from ingest.bag import validate_bag as check_bag
from ingest.context import IngestContext, StepResult
from ingest.profile import profile_identifier, validate_profile
from ingest.unbagged import ROOT_METS, SubmissionForm, detect, read_unbagged
from preservation.events import VALIDATION, Event, Outcome, khoso_agent
from preservation.issues import Report
from profiles import load_profile

SIP_PROFILE = "sip-tt05"


def validate_bag(ctx: IngestContext) -> StepResult:
    assert ctx.bag_root is not None
    form = detect(ctx.bag_root)
    if form is SubmissionForm.UNBAGGED:
        return _validate_unbagged(ctx)
    ctx.bag = check_bag(ctx.bag_root, fast=True, name=submitted_name(ctx))
    report = ctx.bag.report
    if form is None and "BAG001" in report.codes():  # neither of the two accepted forms
        report.add("BAG114", ROOT_METS, file=ctx.source.name)
    outcome = Outcome.SUCCESS if report.ok else Outcome.FAILURE
    event = Event(VALIDATION, outcome, "BagIt RFC 8493: structure, tag files, manifests, "
                  "Payload-Oxum, completeness (digests in the read pass)",
                  outcome_detail="; ".join(sorted(report.codes())), object_identifier=ctx.job_id,
                  agents=((khoso_agent(), "validator"),))
    return StepResult.of(report, [event])


def submitted_name(ctx: IngestContext) -> str:
    """The bag as the submitter knows it: the folder they sent, or the archive's name (with
    its top folder when the bag is one), never the workspace's own staging folder."""
    assert ctx.bag_root is not None
    if ctx.kind == "dir":
        return ctx.bag_root.name
    top = ctx.bag_root.relative_to(ctx.workspace / "sip").as_posix()
    return ctx.source.name if top == "." else f"{ctx.source.name}/{top}"


def _validate_unbagged(ctx: IngestContext) -> StepResult:
    """A TT 05 package without BagIt: its METS file list, sizes and checksums, read once."""
    assert ctx.bag_root is not None
    ctx.form = SubmissionForm.UNBAGGED
    package = read_unbagged(ctx.bag_root)
    ctx.bag = package.bag
    report = ctx.bag.report
    outcome = Outcome.SUCCESS if report.ok else Outcome.FAILURE
    event = Event(VALIDATION, outcome,
                  f"submission form: {SubmissionForm.UNBAGGED.value} ({ctx.kind}); fixity "
                  "source: SHA-256 CHECKSUM and SIZE in METS.xml and "
                  "representations/rep1/METS.xml, every file listed, none missing (digests in "
                  f"the read pass); METS.xml sha256={package.mets_sha256}",
                  outcome_detail="; ".join(sorted(report.codes())), object_identifier=ctx.job_id,
                  agents=((khoso_agent(), "validator"),))
    return StepResult.of(report, [event])


def validate_against_profile(ctx: IngestContext) -> StepResult:
    assert ctx.bag is not None
    profile = load_profile(SIP_PROFILE)
    if ctx.form is SubmissionForm.UNBAGGED:  # a check that did not run is never "passed"
        event = Event(VALIDATION, Outcome.NOT_PERFORMED,
                      f"BagIt profile {profile_identifier(profile)}: not applicable, the SIP "
                      "arrived without BagIt (its TT 05 rules are checked by validate_sip)",
                      object_identifier=ctx.job_id, agents=((khoso_agent(), "validator"),))
        return StepResult(Outcome.NOT_PERFORMED, (), (event,), "no BagIt wrapper")
    report: Report = validate_profile(ctx.bag, profile, kind=ctx.kind)
    outcome = Outcome.SUCCESS if report.ok else Outcome.FAILURE
    event = Event(VALIDATION, outcome, f"BagIt profile {profile_identifier(profile)}",
                  outcome_detail="; ".join(sorted(report.codes())), object_identifier=ctx.job_id,
                  agents=((khoso_agent(), "validator"),))
    return StepResult.of(report, [event])
