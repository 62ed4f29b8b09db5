"""Prometheus metrics of the archive, read from the catalog at scrape time.

Nothing is counted in memory for the catalog figures: each scrape asks the catalog, so every
process (web, worker, several web servers scaled out) reports the same numbers and a restart
loses none. The HTTP request counters are per process (the web edge records them).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import sqlalchemy as sa
from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from access_api.services.base import Identity, ServiceContext, UserRole
from preservation.catalog import queries
from preservation.catalog.models import Job, Package, StoredCopy
from preservation.catalog.vocab import PackageKind, PackageStatus
from preservation.errors import Forbidden, Unauthorised

READ_ROLES = (UserRole.ADMIN, UserRole.PRESERVATION_OFFICER)
# AIP versions that hold content (a deleted one holds nothing; a received one is not there yet)
HELD = (PackageStatus.ACTIVE, PackageStatus.SUPERSEDED)


def check_may_read(ctx: ServiceContext, identity: Identity) -> None:
    """A preservation officer or an administrator, or anyone when ``KHOSO_METRICS_PUBLIC``."""
    if ctx.settings.metrics_public:
        return
    if not identity.roles:
        raise Unauthorised("AUTH003")
    if not identity.has(*READ_ROLES):
        raise Forbidden("AUTH004")


def _seconds(value: dt.datetime | None) -> float | None:
    return None if value is None else queries.utc(value).timestamp()


class CatalogCollector(Collector):
    """The catalog's figures, asked at each scrape."""

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def describe(self) -> list[GaugeMetricFamily]:
        return []  # no query at registration time: the figures exist at scrape time only

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        up = GaugeMetricFamily("khoso_catalog_up",
                               "1 when the catalog answered this scrape, else 0")
        try:
            families = list(self._families())
        except sa.exc.SQLAlchemyError:
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families

    def _families(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        s = self.ctx.settings
        with self.ctx.catalog.session() as session:
            jobs = GaugeMetricFamily("khoso_jobs", "Jobs in the catalog by kind and state",
                                     labels=["kind", "state"])
            for kind, state, count in session.execute(
                    sa.select(Job.kind, Job.status, sa.func.count()).group_by(Job.kind,
                                                                              Job.status)
                    .order_by(Job.kind, Job.status)):
                jobs.add_metric([kind, state], count)
            yield jobs

            aip = sa.and_(Package.kind == PackageKind.AIP, Package.status.in_(HELD))
            aips = session.scalar(sa.select(sa.func.count(sa.distinct(Package.objid)))
                                  .where(aip)) or 0
            versions = session.scalar(sa.select(sa.func.count(Package.id)).where(aip)) or 0
            files, size = session.execute(sa.select(
                sa.func.coalesce(sa.func.sum(Package.file_count), 0),
                sa.func.coalesce(sa.func.sum(Package.total_size), 0)).where(aip)).one()
            yield _gauge("khoso_aips", "Archived packages (each OBJID once)", aips)
            yield _gauge("khoso_aip_versions", "AIP versions holding content", versions)
            yield _gauge("khoso_stored_files",
                         "Files of the AIP versions holding content, as each version counts "
                         "them (one copy)", int(files))
            yield _gauge("khoso_stored_bytes",
                         "Bytes of the AIP versions holding content (one copy)", int(size))

            copies = GaugeMetricFamily("khoso_copies",
                                       "Stored copies by location and last fixity check result",
                                       labels=["location", "result"])
            for location, result, count in session.execute(
                    sa.select(StoredCopy.location, StoredCopy.last_check_result, sa.func.count())
                    .where(StoredCopy.id.in_(queries.audited_copies()))
                    .group_by(StoredCopy.location, StoredCopy.last_check_result)
                    .order_by(StoredCopy.location, StoredCopy.last_check_result)):
                copies.add_metric([location, result], count)
            yield copies
            yield _gauge("khoso_copies_overdue",
                         "Copies not re-read within KHOSO_AUDIT_PERIOD_DAYS",
                         queries.count_overdue_copies(session, period_days=s.audit_period_days))
            yield _gauge("khoso_bad_copies",
                         "Copies whose last check found them changed or missing",
                         queries.count_bad_copies(session))
            critical = session.scalar(sa.select(sa.func.count(sa.distinct(Package.objid)))
                                      .where(Package.critical)) or 0
            yield _gauge("khoso_critical_aips", "AIPs with no good copy left", critical)
            last = _seconds(session.scalar(sa.select(sa.func.max(StoredCopy.last_check_at))))
            if last is not None:
                yield _gauge("khoso_last_audit_timestamp_seconds",
                             "When a copy was last re-read (Unix time)", last)

            ingests = CounterMetricFamily("khoso_ingests",
                                          "Submissions accepted (AIPs registered) and rejected",
                                          labels=["outcome"])
            accepted = session.scalar(sa.select(sa.func.count(Package.id)).where(
                Package.kind == PackageKind.AIP, Package.version == 1,
                Package.status != PackageStatus.RECEIVED)) or 0
            rejected = session.scalar(sa.select(sa.func.count(Package.id)).where(
                Package.kind == PackageKind.SIP,
                Package.status == PackageStatus.REJECTED)) or 0
            ingests.add_metric(["accepted"], accepted)
            ingests.add_metric(["rejected"], rejected)
            yield ingests


def _gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, value=value)


def registry(ctx: ServiceContext) -> CollectorRegistry:
    """A registry of its own per app (tests build many apps in one process) with the catalog
    collector; the web edge adds its request counters to it."""
    reg = CollectorRegistry(auto_describe=False)
    reg.register(CatalogCollector(ctx))
    return reg
