"""Report reads through a read replica: a second database alias that mirrors the test database
(as ``TEST: {"MIRROR": "default"}`` does), added for these tests only.

The mirror is a second connection, so it sees only committed rows: these tests commit
(``transactional_db``), as a real replica only sees what the primary committed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from django.db import connections, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from alliance.clients.models import ClientRecord
from alliance.core.audit import verify_chain
from alliance.core.db_routers import REPLICA, replica_reads
from alliance.core.models import AuditEvent
from tests.conftest import sign_in


@pytest.fixture(scope="module", autouse=True)
def replica_alias(django_db_setup, django_db_blocker):
    """The replica alias exists for this module's tests only (module scope, so it is in place
    before the test case checks its ``databases``)."""
    primary = connections["default"].settings_dict
    connections.settings[REPLICA] = {**primary, "TEST": {**primary["TEST"], "MIRROR": "default"}}
    try:
        yield
    finally:
        with django_db_blocker.unblock():
            connections[REPLICA].close()
        del connections[REPLICA]
        del connections.settings[REPLICA]


@pytest.fixture
def replica():
    return connections[REPLICA]


def selects(queries) -> list[str]:
    return [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith("SELECT")]


pytestmark = pytest.mark.django_db(transaction=True, databases=["default", REPLICA])


def test_only_reads_in_a_replica_block_go_to_the_replica(personas, replica):
    with (
        CaptureQueriesContext(replica) as on_replica,
        CaptureQueriesContext(connections["default"]) as on_primary,
    ):
        with replica_reads():
            names = sorted(ClientRecord.objects.values_list("full_name", flat=True))
            record = ClientRecord.objects.get(pk=personas.client.pk)
            record.preferred_name = "Cleo P"
            record.save(update_fields=["preferred_name"])  # a write: the primary
            with transaction.atomic():
                # Inside a transaction on the primary, reads stay there (read your own writes).
                assert ClientRecord.objects.get(pk=record.pk).preferred_name == "Cleo P"
        ClientRecord.objects.filter(pk=record.pk).exists()  # outside the block: the primary
    assert names == ["Cleo Client", "Flo Faraway", "Otto Other"]
    replica_sql = " ".join(q["sql"] for q in on_replica.captured_queries)
    assert len(selects(on_replica.captured_queries)) == 2 and "UPDATE" not in replica_sql.upper()
    primary = on_primary.captured_queries
    assert any(q["sql"].startswith("UPDATE") for q in primary)
    assert len(selects(primary)) == 2
    assert ClientRecord.objects.get(pk=record.pk).preferred_name == "Cleo P"


def test_without_a_replica_block_nothing_reads_the_replica(personas, replica):
    with CaptureQueriesContext(replica) as on_replica:
        assert ClientRecord.objects.filter(clinic=personas.clinic).count() == 2
    assert on_replica.captured_queries == []


def test_clinic_report_reads_the_replica_and_audits_on_the_primary(client, personas, replica):
    sign_in(client, personas.admin)
    with CaptureQueriesContext(replica) as on_replica:
        response = client.get(reverse("clinic_report"))
    assert response.status_code == 200
    assert len(selects(on_replica.captured_queries)) > 0
    assert not any(not q["sql"].upper().startswith("SELECT") for q in on_replica.captured_queries)
    assert AuditEvent.objects.filter(record_type="clinic_report", action="view").count() == 1
    assert verify_chain() == []


@pytest.mark.slow
def test_settings_add_a_mirrored_replica_alias_from_the_environment(tmp_path):
    code = (
        "import json, django; from django.conf import settings; django.setup();"
        "print(json.dumps({'db': {k: {'NAME': v['NAME'], 'MIRROR': v.get('TEST', {}).get('MIRROR')}"
        " for k, v in settings.DATABASES.items()}, 'routers': settings.DATABASE_ROUTERS}))"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "alliance.settings",
        "ALLIANCE_DATA_DIR": str(tmp_path),
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/primary_db",
        "DATABASE_REPLICA_URL": "postgres://reader@127.0.0.1:5433/primary_db",
    }
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    found = json.loads(out.stdout.strip().splitlines()[-1])
    assert found["db"]["replica"] == {"NAME": "primary_db", "MIRROR": "default"}
    assert found["routers"] == ["alliance.core.db_routers.ReplicaRouter"]
