"""`hitlgraph serve`: the LangGraph server API over the graphs a langgraph.json names."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from hitlgraph._install import install_command
from hitlgraph._net import is_loopback
from hitlgraph.cli._errors import CliError, ExitCode

if TYPE_CHECKING:
    from hitlgraph.server.config import ServerSettings

__all__ = ["is_loopback", "serve"]


@click.command()
@click.option("--config", "config_path", default="langgraph.json", show_default=True,
              metavar="PATH", help="langgraph.json naming the graphs to serve.")
@click.option("--db", default="hitlgraph.sqlite", show_default=True, envvar="HITLGRAPH_DB",
              metavar="PATH", help="SQLite file of threads, runs and checkpoints (env "
              "HITLGRAPH_DB).")
@click.option("--postgres", metavar="DSN", envvar="HITLGRAPH_POSTGRES",
              help="Keep threads, runs and checkpoints in this PostgreSQL database instead "
              "(a postgresql:// URL or a libpq \"key=value\" string; env HITLGRAPH_POSTGRES). "
              "Several servers may share it: each executes runs any of them queued.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8123, show_default=True, type=click.IntRange(0, 65535))
@click.option("--workers", default=2, show_default=True, type=click.IntRange(min=1),
              help="Runs this process executes at once.")
@click.option("--lease-seconds", default=30.0, show_default=True,
              type=click.FloatRange(min=0.1), help="How long a worker's claim on a run lasts "
              "without renewal: a run whose server died is taken over by another after this.")
@click.option("--poll-seconds", default=0.5, show_default=True,
              type=click.FloatRange(min=0.01), help="How often a process looks in the "
              "database for work and run events that no notification announced (on SQLite, "
              "how soon one process sees what another did).")
def serve(config_path: str, db: str, postgres: str | None, host: str, port: int,
          workers: int, lease_seconds: float, poll_seconds: float) -> None:
    """Serve the graphs of a langgraph.json over HTTP, as the LangGraph server does, so the
    langgraph-sdk client works against it (and browser front ends, through CORS).

    API keys come from $HITLGRAPH_API_KEYS ("tenant:key,..."), or "hitlgraph": {"api_keys":
    ...} in langgraph.json; clients send theirs in the x-api-key header. Without any, the
    server only listens on a loopback address. Once it listens, it prints its address and the
    reviewer inbox's (/, opened in a browser, leads there too).
    """
    try:
        from hitlgraph.server import ServerSettings, create_app
        from hitlgraph.server._uvicorn import configure_logging, run
        from hitlgraph.server.config import ConfigError
    except ImportError as exc:
        raise CliError(f"{exc}. Install the server with: {install_command('server')}",
                       ExitCode.USAGE) from None
    db, where = _database(db, postgres)
    settings = ServerSettings(config=config_path, db=db, workers=workers, host=host,
                              lease_seconds=lease_seconds, poll_seconds=poll_seconds)
    _check_auth(settings, config_path, host)
    configure_logging()  # the app logs langgraph.json's warnings while it is built
    try:
        app = create_app(settings)
    except ConfigError as exc:
        raise CliError(str(exc), ExitCode.GRAPH_ERROR) from None

    def ready(url: str) -> None:
        click.echo(f"hitlgraph server on {url}, reviewer inbox at {url}/inbox (graphs from "
                   f"{config_path}, data in {where}, {workers} worker"
                   f"{'s' if workers != 1 else ''})", err=True)

    run(app, host=host, port=port, on_ready=ready)


def _database(db: str, postgres: str | None) -> tuple[str, str]:
    """The database to use (--db's path, or --postgres's URL), and how the startup line
    names it."""
    if not postgres:
        return db, db
    try:
        from hitlgraph.server.store.postgres import postgres_url
    except ImportError as exc:
        raise CliError(str(exc), ExitCode.USAGE) from None
    try:
        return postgres_url(postgres), "PostgreSQL"
    except Exception as exc:  # psycopg.ProgrammingError: a malformed conninfo
        raise CliError(f"--postgres: {exc}. Give a URL such as "
                       "postgresql://user@127.0.0.1:5432/app.", ExitCode.USAGE) from None


def _check_auth(settings: ServerSettings, config_path: str, host: str) -> None:
    """Refuse to listen on a host other machines reach without authentication. The config's
    "env" is applied first: API keys, or what the auth callable reads, may come from it."""
    from hitlgraph.server.app import resolve_auth
    from hitlgraph.server.config import ConfigError, apply_env, load_config

    try:
        config = load_config(config_path)
        apply_env(config)
        auth = resolve_auth(settings, config)
    except (ConfigError, ValueError) as exc:
        raise CliError(str(exc), ExitCode.USAGE) from None
    if auth is None and not is_loopback(host):
        raise CliError(
            f"Refusing to listen on {host} without authentication: anyone who reaches it could "
            "read and resume every thread. Add an API key, e.g. export "
            "HITLGRAPH_API_KEYS='my-team:'$(python -c 'import secrets; "
            "print(secrets.token_urlsafe(32))'), or list hashed keys under \"hitlgraph\": "
            "{\"api_keys\": {\"my-team\": \"sha256:...\"}} in langgraph.json; or listen on "
            "127.0.0.1.", ExitCode.USAGE)
