"""Knowledge-base articles: list or search (numbered pages), write, read, change, delete."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.http import urlencode
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.permissions import HasCapability
from core.api import params
from core.api.errors import service_error

from ...kb_forms import ArticleFilterForm
from ...models import Article
from ...selectors import kb as kb_selectors
from ...services import kb as kb_services
from ..serializers import ArticleInputSerializer, ArticleOutputSerializer

KB_PAGE_SIZE = 25
KB_MAX_PAGE_SIZE = 100


class _ArticleApi(GenericAPIView):
    permission_classes = [HasCapability]
    read_capability = "kb.view"
    write_capability = "kb.edit"


def _article(article_id: int) -> Article:
    try:
        return kb_selectors.article_get(article_id=article_id)
    except Article.DoesNotExist:
        raise NotFound(f"No article has the id {article_id} in this workspace.") from None


def _page_link(request: Request, number: int | None) -> str | None:
    if number is None:
        return None
    params = request.query_params.copy()
    params["page"] = str(number)
    return request.build_absolute_uri(f"{request.path}?{urlencode(params, doseq=True)}")


ARTICLE_PAGE = inline_serializer(
    "ArticlePage",
    fields={
        "next": serializers.URLField(allow_null=True),
        "previous": serializers.URLField(allow_null=True),
        "count": serializers.IntegerField(),
        "results": ArticleOutputSerializer(many=True),
    },
)


class ArticleListApi(_ArticleApi):
    serializer_class = ArticleOutputSerializer

    @extend_schema(
        summary="List or search articles",
        operation_id="kb_articles_list",
        description="With `q`, keyword and semantic search, best match first, with a `score` per article. Pages "
        "are numbered (a ranked search has no stable key to seek on); follow `next`.",
        parameters=[
            *params.form_parameters(ArticleFilterForm),
            params.page_size_parameter(default=KB_PAGE_SIZE, maximum=KB_MAX_PAGE_SIZE),
        ],
        responses=ARTICLE_PAGE,
    )
    def get(self, request: Request) -> Response:
        form = params.validated_query(ArticleFilterForm, request.query_params)
        filters = form.filters()
        page_size = params.page_size(request.query_params, default=KB_PAGE_SIZE, maximum=KB_MAX_PAGE_SIZE)
        page = kb_selectors.article_list(
            filters=filters, sort=form.chosen_sort(filters), page=form.chosen_page(), page_size=page_size
        )
        return Response(
            {
                "next": _page_link(request, page.next_page_number() if page.has_next() else None),
                "previous": _page_link(request, page.previous_page_number() if page.has_previous() else None),
                "count": page.paginator.count,
                "results": ArticleOutputSerializer(page.object_list, many=True).data,
            }
        )

    @extend_schema(summary="Write an article", request=ArticleInputSerializer, responses={201: ArticleOutputSerializer})
    def post(self, request: Request) -> Response:
        serializer = ArticleInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            article = kb_services.article_create(actor=request.user, **serializer.validated_data)
        except DjangoValidationError as error:
            raise service_error(error) from None
        return Response(ArticleOutputSerializer(_article(article.pk)).data, status=status.HTTP_201_CREATED)


class ArticleDetailApi(_ArticleApi):
    serializer_class = ArticleOutputSerializer

    @extend_schema(summary="Get an article", responses=ArticleOutputSerializer)
    def get(self, request: Request, article_id: int) -> Response:
        return Response(ArticleOutputSerializer(_article(article_id)).data)

    @extend_schema(
        summary="Change an article",
        description="Only the fields sent are changed.",
        request=ArticleInputSerializer(partial=True),
        responses=ArticleOutputSerializer,
    )
    def patch(self, request: Request, article_id: int) -> Response:
        article = _article(article_id)
        serializer = ArticleInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        try:
            kb_services.article_update(article=article, actor=request.user, data=serializer.validated_data)
        except DjangoValidationError as error:
            raise service_error(error) from None
        return Response(ArticleOutputSerializer(_article(article_id)).data)

    @extend_schema(summary="Delete an article", responses={204: None})
    def delete(self, request: Request, article_id: int) -> Response:
        kb_services.article_delete(article=_article(article_id), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
