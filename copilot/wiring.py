"""The composition root: the one place the copilot's long-lived objects are built from
Settings. The app (cached once per process by app_pages/state.py), the CLI, the report
scheduler and `eval` all build what they run through here, so each runs the same objects.
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from copilot.answering import Answering
from copilot.approvals.kinds import Kinds
from copilot.approvals.llm_kind import LLMSettingsKind
from copilot.approvals.policy_kind import ApprovedPolicy, PolicyKind, held_executor
from copilot.approvals.service import Approvals
from copilot.approvals.settings import four_eyes_on
from copilot.approvals.store import ApprovalStore
from copilot.approvals.training_kinds import ActivationKind, GlossaryKind, PairsKind
from copilot.core.access import Access, load_roles
from copilot.core.audit import AuditLog, Recorder
from copilot.core.directory import Directory
from copilot.core.entitlements_policy import load_entitlements
from copilot.core.executor import Executor
from copilot.core.guard import Guard, GuardSchema, Policy, default_policy, load_policy
from copilot.core.settings import AuditSettings, Settings, StateSettings
from copilot.core.signins import SignIns
from copilot.core.warehouse import Warehouse
from copilot.demo import DemoSummary, build_demo_warehouse
from copilot.llm.admin import LLMAdmin
from copilot.llm.store import LLMSettingsStore
from copilot.training_actions import TrainingActions
from dashboards.service import DashboardService
from dashboards.shared_cache import widget_cache
from reports.recipients_kind import OutsideRecipientsKind
from reports.runner import ReportRunner
from reports.service import ReportService
from reports.smtp_kind import SMTPGate, SMTPSettingsKind
from reports.store import ReportStore
from training.embedding import MiniLMEmbedder
from training.glossary import load_glossary
from training.profiles import ProfileRepository, ProfileVersion
from training.store import TrainingStore
from training.trainer import Trainer

__all__ = ["Services", "build_services", "dashboards_of", "ensure_demo_trained",
           "ensure_demo_warehouse", "executor_for", "guard_policy", "report_runner", "reports_of",
           "throwaway_services"]


@dataclass(frozen=True)
class Services:
    """What pages and commands work with, each part for one job."""

    settings: Settings
    warehouse: Warehouse
    executor: Executor  # the guard, then the warehouse: every statement's one way in
    recorder: Recorder  # the audit trail's one writer
    trainer: Trainer
    answering: Answering  # questions and SQL in, audited answers out
    llm: LLMAdmin  # the LLM configuration in force and its writer
    training: TrainingActions  # what the Training page changes, audited
    approvals: Approvals  # four eyes: changes that wait for a second person
    directory: Directory  # each person's groups as their last sign-in stated them
    sign_ins: SignIns  # each sign-in's last activity, for the session timeout

    @property
    def audit(self) -> AuditLog:
        return self.recorder.log


def guard_policy(settings: Settings) -> Policy:
    """The guard policy in force: the configured file, else the one shipped."""
    policy = settings.warehouse.guard_policy
    return load_policy(policy) if policy else default_policy()


def executor_for(warehouse: Warehouse, settings: Settings,
                 directory: Directory | None = None) -> Executor:
    """The guard over `warehouse`'s tables with the configured row cap and policy, and the
    entitlements policy when one is configured (checked against the same tables); a
    user's groups looked up in `directory` when not handed in."""
    guard = Guard(GuardSchema.from_warehouse(warehouse.schema()), dialect=warehouse.dialect,
                  row_cap=settings.warehouse.row_cap, policy=guard_policy(settings))
    policy = settings.warehouse.entitlements
    entitlements = load_entitlements(policy, guard.schema, dialect=warehouse.sqlglot_dialect
                                     ) if policy else None
    return Executor(guard, warehouse, entitlements, directory=directory)


def build_services(settings: Settings) -> Services:
    """Open the warehouse read-only (building the demo first when needed), its guard, the
    audit trail, the trainer and what answers; on the embedded demo, train the demo profile
    when it never was."""
    ensure_demo_warehouse(settings)
    warehouse = Warehouse(settings.warehouse.url, timeout_s=settings.warehouse.query_timeout_s,
                          db_schema=settings.warehouse.schema or None)
    directory = Directory(settings.state.url, max_age_days=settings.app.groups_max_age_days)
    executor = executor_for(warehouse, settings, directory)
    # from_settings: a PostgreSQL audit database (central state) takes its key and checkpoint
    # folders from the settings; only a SQLite file has a default beside it.
    recorder = Recorder(AuditLog.from_settings(settings), settings.app.user)
    assert settings.state.chroma_dir is not None  # filled by Settings

    def training_changed(version: ProfileVersion, what: str, by: str) -> None:
        recorder.record("training", what, by=by, profile_version=version.key)

    trainer = Trainer(
        profile=settings.app.profile, repository=ProfileRepository(settings.state.url),
        store=TrainingStore(settings.state.chroma_dir, MiniLMEmbedder()), warehouse=warehouse,
        # Training samples stored values as the system, whoever asks later: its reads are
        # not any user's (the value index lives in the state database, not on a page).
        query=executor.unrestricted().run, check=executor.unrestricted().check,
        on_change=training_changed)
    roles = settings.app.roles
    # No roles file: the single-user demo. Groups not handed in come from the directory.
    access = (load_roles(roles) if roles else Access()).with_directory(directory)
    # The kinds are registered below, once what each applies through is built.
    approvals = Approvals(ApprovalStore(settings.state.url), recorder, access, Kinds(),
                          enabled=four_eyes_on(settings))
    # Under four eyes the rows come from the last approved entitlements policy, not the file.
    executor = held_executor(executor, approvals)
    unheld = LLMAdmin(settings, LLMSettingsStore(settings.state.url), recorder, access)
    llm_kind = LLMSettingsKind(unheld)  # applies an approved save: the admin without a hold
    llm = dataclasses.replace(unheld, hold=llm_kind.holder(approvals))
    training = TrainingActions(executor, trainer, recorder, access, approvals)
    held = executor.entitlements if isinstance(executor.entitlements, ApprovedPolicy) else None
    for kind in (PairsKind(trainer), GlossaryKind(training), ActivationKind(trainer), llm_kind,
                 OutsideRecipientsKind(ReportStore(settings.state.url), recorder),
                 SMTPSettingsKind(approvals.store), *([PolicyKind(held)] if held else [])):
        approvals.kinds.register(kind)
    # The file and the environment against what was approved, before anything is read or
    # sent with them: a difference is proposed now (the approved values stay in force).
    if held is not None:
        held.reconcile()
    SMTPGate(approvals, settings.smtp).held()
    services = Services(
        settings=settings, warehouse=warehouse, executor=executor, recorder=recorder,
        trainer=trainer, llm=llm, training=training, approvals=approvals,
        directory=directory, sign_ins=SignIns(settings.state.url),
        answering=Answering(executor, recorder, trainer,
                            as_of=settings.warehouse.effective_as_of, writer=llm.writer,
                            access=access, approvals=approvals))
    ensure_demo_trained(services)
    return services


def dashboards_of(services: Services) -> DashboardService:
    """The dashboards over these services' answering (the demo's seeded on first use)."""
    return DashboardService(services.answering, services.recorder,
                            state_url=services.settings.state.url,
                            demo=services.settings.uses_demo_warehouse,
                            cache=widget_cache(services.settings))


def reports_of(services: Services, *, start_scheduler: bool = True) -> ReportService:
    """The report templates and run log; the process's scheduler started unless told not."""
    return ReportService(services.answering, services.recorder, services.settings,
                         start_scheduler=start_scheduler, approvals=services.approvals)


def report_runner(services: Services) -> ReportRunner:
    """What runs one report (a command, the scheduler's job), with no scheduler."""
    return ReportRunner(services.answering, services.recorder, services.settings,
                        ReportStore(services.settings.state.url),
                        holds=SMTPGate(services.approvals, services.settings.smtp).holds())


@contextmanager
def throwaway_services(settings: Settings, glossary: Path) -> Iterator[Services]:
    """The services of `settings`' warehouse trained on `glossary` in a temporary folder
    (state, training store and audit trail there, gone afterwards): `eval` answers through
    the production objects without touching the real state, training or audit."""
    with tempfile.TemporaryDirectory(prefix="copilot-eval-") as folder:
        # Fresh state and audit sections fill their defaults in the temporary folder.
        scratch = dataclasses.replace(
            settings, app=dataclasses.replace(settings.app, data_dir=Path(folder),
                                              profile="eval"),
            state=StateSettings(), audit=AuditSettings())
        services = build_services(scratch)
        try:
            services.trainer.train(load_glossary(glossary), by=scratch.app.user, note="eval")
            yield services
        finally:
            services.warehouse.dispose()
            services.audit.dispose()


def ensure_demo_warehouse(settings: Settings) -> DemoSummary | None:
    """Build the embedded demo warehouse when it is the configured one and is absent."""
    path = settings.demo_warehouse_path
    if not settings.uses_demo_warehouse or path.exists():
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    return build_demo_warehouse(path, as_of=settings.warehouse.effective_as_of(),
                                seed=settings.app.demo_seed, trades=settings.app.demo_trades)


def ensure_demo_trained(services: Services) -> ProfileVersion | None:
    """Train the demo profile on first launch; a bank's warehouse is trained on purpose."""
    settings = services.settings
    if not settings.uses_demo_warehouse or services.trainer.active() is not None:
        return None
    return services.trainer.train(load_glossary(settings.app.glossary_dir), by=settings.app.user,
                                  note="first launch of the demo")
