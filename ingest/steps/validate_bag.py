"""validate the bag (RFC 8493) and against the submission profile, cheapest checks first.

Digests are not computed here: the one read pass of ``scan_viruses`` computes them together
with the virus scan, and compares them with the manifests there.
"""

from __future__ import annotations

from ingest.bag import validate_bag as check_bag
from ingest.context import IngestContext, StepResult, khoso_agent
from ingest.profile import profile_identifier, validate_profile
from preservation.events import VALIDATION, Event, Outcome
from preservation.issues import Report
from profiles import load_profile

SIP_PROFILE = "sip-tt05"


def validate_bag(ctx: IngestContext) -> StepResult:
    assert ctx.bag_root is not None
    ctx.bag = check_bag(ctx.bag_root, fast=True)
    report = ctx.bag.report
    outcome = Outcome.SUCCESS if report.ok else Outcome.FAILURE
    event = Event(VALIDATION, outcome, "BagIt RFC 8493: structure, tag files, manifests, "
                  "Payload-Oxum, completeness (digests in the read pass)",
                  outcome_detail="; ".join(sorted(report.codes())), object_identifier=ctx.job_id,
                  agents=((khoso_agent(), "validator"),))
    return StepResult.of(report, [event])


def validate_against_profile(ctx: IngestContext) -> StepResult:
    assert ctx.bag is not None
    profile = load_profile(SIP_PROFILE)
    report: Report = validate_profile(ctx.bag, profile, kind=ctx.kind)
    outcome = Outcome.SUCCESS if report.ok else Outcome.FAILURE
    event = Event(VALIDATION, outcome, f"BagIt profile {profile_identifier(profile)}",
                  outcome_detail="; ".join(sorted(report.codes())), object_identifier=ctx.job_id,
                  agents=((khoso_agent(), "validator"),))
    return StepResult.of(report, [event])
