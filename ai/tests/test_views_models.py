"""The AI models page: classifiers, versions with their evaluation next to the then-deployed version's and the
baseline's, datasets with counts per label; Train (queued, with live progress), Deploy anyway, Roll back; admins
only. Plus the read-only API of model versions."""

from __future__ import annotations

import pytest
from django.urls import reverse

from ai import classifiers
from ai.models import ModelVersion
from ai.tests.factories import DatasetFactory, ModelVersionFactory
from ai.tests.fake_training import FakeTraining

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
NAME = "helpdesk.category"


def url(name: str, *args) -> str:
    return reverse(f"ai:{name}", args=args)


@pytest.fixture
def admin(client, login):
    login("admin")
    return client


def _versions():
    dataset = DatasetFactory(
        name=NAME, label_names={"billing": "Billing & invoices"}, sources={"tickets": 3, "agent corrections": 1}
    )
    first = ModelVersionFactory(dataset=dataset, version=1, deployed=True, decision="Deployed: better than …")
    second = ModelVersionFactory(
        dataset=dataset,
        version=2,
        compared_with=first,
        current_evaluation={**first.evaluation, "accuracy": 0.6},
        baseline={**first.evaluation, "accuracy": 0.45},
        decision="Not deployed: not better than the deployed version (v1).",
    )
    return first, second


def test_the_page_shows_versions_with_their_comparison_and_datasets_with_counts(admin, django_assert_max_num_queries):
    _, second = _versions()

    with django_assert_max_num_queries(12):
        response = admin.get(url("model_list") + f"?classifier={NAME}")

    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="tab-models"' in html and 'data-testid="model-versions"' in html
    assert html.count('data-testid="model-version"') == 2 and 'data-testid="model-deployed"' in html
    assert "Not deployed: not better than the deployed version (v1)." in html
    assert "60.0%" in html and "45.0%" in html  # the deployed-then and baseline figures on the same holdout
    assert "±69.3" in html  # 50 % right on 2 held-out tickets: chance alone could move it that far
    assert 'data-testid="model-confusion"' in html and "Billing &amp; invoices" in html
    assert "agent corrections: 1" in html
    assert f'action="{url("model_version_deploy", second.pk)}"' in html  # v2 is newer: "Deploy anyway"


def test_the_page_explains_what_to_do_when_there_is_nothing_yet(admin):
    html = admin.get(url("model_list") + "?classifier=helpdesk.category").content.decode()

    # Registered by the apps: the helpdesk's classifier, leads' and customers' outcome models.
    assert "Ticket category" in html and "Lead conversion" in html and "Churn risk" in html
    assert 'data-testid="versions-empty"' in html and "Train new version" in html
    assert "two labels with 10 labelled examples each" in html
    outcome = admin.get(url("model_list") + "?classifier=leads.conversion").content.decode()
    assert "It needs at least 20 leads of each outcome" in outcome


def test_agents_may_not_see_or_change_models(client, login):
    _, second = _versions()
    login("agent")

    assert client.get(url("model_list")).status_code == 403
    assert client.post(url("model_train"), {"classifier": NAME}).status_code == 403
    assert client.post(url("model_version_deploy", second.pk)).status_code == 403
    assert client.get("/api/v1/ai/model-versions/").status_code == 403


def test_train_queues_a_version_and_the_page_polls_its_progress(admin, monkeypatch):
    monkeypatch.setattr(classifiers, "enqueue_on_commit", lambda task, *args: "not-run")  # the worker is elsewhere
    texts = [f"refund invoice {n}" for n in range(12)] + [f"password login {n}" for n in range(12)]
    monkeypatch.setattr(
        classifiers, "_SOURCES", {NAME: classifiers.TrainingSource(NAME, "Ticket category", lambda: _data(texts))}
    )

    response = admin.post(url("model_train"), {"classifier": NAME})

    assert response.status_code == 302
    version = ModelVersion.objects.get(name=NAME)
    assert (version.status, version.progress, version.dataset.examples) == ("training", 0.0, 24)
    html = admin.get(response["Location"]).content.decode()
    assert f'hx-get="{url("model_version_progress", version.pk)}"' in html and 'hx-trigger="every 1s"' in html
    ModelVersion.objects.filter(pk=version.pk).update(progress=0.5, progress_message="Choosing features")
    fragment = admin.get(url("model_version_progress", version.pk), **HTMX).content.decode()
    assert "Choosing features" in fragment and "50%" in fragment and "<html" not in fragment
    ModelVersion.objects.filter(pk=version.pk).update(status="ready")
    assert admin.get(url("model_version_progress", version.pk), **HTMX)["HX-Refresh"] == "true"


def _data(texts):
    from ai.contracts import TrainingData

    return TrainingData(tuple(texts), tuple(["billing"] * 12 + ["login"] * 12))


def test_deploy_anyway_and_rollback_from_the_page(admin, monkeypatch):
    FakeTraining().install(monkeypatch)
    first, second = _versions()

    admin.post(url("model_version_deploy", second.pk))
    second.refresh_from_db()
    assert second.deployed and second.forced

    admin.post(url("model_version_rollback", first.pk))
    first.refresh_from_db()
    assert first.deployed and not ModelVersion.objects.get(pk=second.pk).deployed


def test_a_version_that_cannot_be_deployed_says_why(admin):
    training = ModelVersionFactory(name=NAME, status="training", model_bytes=None)

    response = admin.post(url("model_version_deploy", training.pk), follow=True)

    assert "not ready" in response.content.decode()


# --- API ------------------------------------------------------------------------------------------


def test_the_api_lists_and_reads_model_versions_with_their_evaluation(admin):
    _, second = _versions()
    ModelVersionFactory(name="other.classifier")

    listed = admin.get("/api/v1/ai/model-versions/", {"classifier": NAME}).json()
    detail = admin.get(f"/api/v1/ai/model-versions/{second.pk}/").json()

    assert [row["version"] for row in listed["results"]] == [2, 1]
    assert detail["classifier"] == NAME and detail["compared_with"] == 1 and not detail["deployed"]
    assert detail["evaluation"]["accuracy"] == 0.5 and detail["current_evaluation"]["accuracy"] == 0.6
    assert detail["dataset"]["sources"] == {"tickets": 3, "agent corrections": 1}
    assert "model_bytes" not in detail and "texts" not in detail["dataset"]
    assert admin.get("/api/v1/ai/model-versions/999999/").status_code == 404
