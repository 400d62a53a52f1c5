"""The inspection workbench: inspectors write, moderate and publish their judgments, under
embargo, with every change audited (docs/workbench.md).

It keeps its own database (SQLite by default, PostgreSQL by URL): users, their sessions, every
version of every force's judgments, the workflow state of each force × cycle, comments, the
releases that switch the public site, and the hash-chained audit trail. The parts:

- ``database``: the engine, one write transaction at a time, and migrations (Alembic);
- ``tables``: the schema;
- ``roles``: what each role may do, one declared table, enforced by ``roles.authorize``;
- ``workflow``: the states of a force's judgments and the steps between them, as data;
- ``audit``: the append-only, hash-chained trail and its verification;
- ``accounts``: users, argon2 passwords, sign-in with lock-out, server-side sessions;
- ``service``: every operation, each one transaction that authorises, writes and audits;
- ``release``: scheduled publication: bundles rendered before, released by one switch.
"""
