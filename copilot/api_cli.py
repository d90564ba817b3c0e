"""`python -m copilot api` (serve the REST API) and `python -m copilot api-token ...`
(make, list and revoke the tokens it accepts); each token change audited on the cli
channel, by the operator who ran the command."""

from __future__ import annotations

import argparse
import sys

from copilot.core.settings import Settings

__all__ = ["add_api_commands", "run_api", "run_api_token"]


def _groups(text: str) -> frozenset[str]:
    return frozenset(g.strip() for g in text.split(",") if g.strip())


def add_api_commands(commands: argparse._SubParsersAction) -> None:
    api = commands.add_parser("api", help="serve the REST API with uvicorn (docs at /api/docs)")
    api.add_argument("--host", default="127.0.0.1",
                     help="address to listen on (default 127.0.0.1; every call needs a token)")
    api.add_argument("--port", type=int, default=8000, help="port (default 8000)")

    token = commands.add_parser("api-token", help="make, list or revoke REST API tokens")
    actions = token.add_subparsers(dest="token_command", required=True)
    create = actions.add_parser("create", help="make a token for a person; printed once")
    create.add_argument("--user", required=True, help="the person the token acts for")
    create.add_argument("--groups", type=_groups, default=frozenset(),
                        help="their groups, comma-separated (default: those of their last "
                             "sign-in)")
    create.add_argument("--expires-days", type=float, default=90.0,
                        help="days until it expires (default 90)")
    actions.add_parser("list", help="every token: id, person, groups, state, expiry")
    revoke = actions.add_parser("revoke", help="revoke a token at once")
    revoke.add_argument("token_id", help="the token's id (from list)")


def run_api(args: argparse.Namespace, settings: Settings) -> int:
    from api.serve import serve

    return serve(settings, host=args.host, port=args.port)


def run_api_token(args: argparse.Namespace, settings: Settings) -> int:
    from api.tokens import ApiTokens
    from copilot.core.audit import AuditLog, Recorder

    tokens = ApiTokens(settings.state.url)
    try:
        if args.token_command == "list":
            for t in tokens.tokens():
                expires = f"{t.expires_at:%Y-%m-%d}" if t.expires_at else "never"
                print(f"{t.id}  {t.user}  groups={','.join(sorted(t.groups)) or '-'}  "
                      f"{t.state()}  created {t.created_at:%Y-%m-%d} by {t.created_by}  "
                      f"expires {expires}")
            return 0
        log = AuditLog.from_settings(settings)
        recorder = Recorder(log, settings.app.user)
        try:
            if args.token_command == "create":
                token, text = tokens.create(args.user, groups=args.groups, by=recorder.user,
                                            expires_days=args.expires_days)
                recorder.record("cli", f"api token {token.id} created for {token.user}",
                                details={"token": token.id, "user": token.user,
                                         "groups": sorted(token.groups),
                                         "expires_at": str(token.expires_at)})
                # The token alone on stdout (a script captures it); the rest on stderr.
                print(text)
                print(f"token {token.id} for {token.user}, expires "
                      f"{token.expires_at:%Y-%m-%d}: keep it secret, it is not shown again",
                      file=sys.stderr)
                return 0
            token = tokens.revoke(args.token_id)
            recorder.record("cli", f"api token {token.id} of {token.user} revoked",
                            details={"token": token.id, "user": token.user})
            print(f"revoked {token.id} ({token.user})")
            return 0
        finally:
            log.dispose()
    finally:
        tokens.dispose()
