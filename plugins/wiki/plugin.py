"""The wiki plugin's hook implementations (its entry point): a mentoring wiki whose articles
members write, edit and rate. It records activities through core; it imports no other plugin."""

from __future__ import annotations

from pathlib import Path

from flask import render_template
from flask_babel import lazy_gettext as _l

from core.api import (
    ActivityKind,
    HomeCounter,
    NavItem,
    ProfileSection,
    Statistic,
    WebhookEventType,
    count_per_month,
    hookimpl,
)
from plugins.wiki import account_end, api, reports, services
from plugins.wiki.demo import add_demo_articles
from plugins.wiki.export import wiki_part
from plugins.wiki.models import Article
from plugins.wiki.views import bp

REQUIRES = ()


@hookimpl
def register_webhook_events():
    return [WebhookEventType("article.published", _l("A wiki article was published"))]


@hookimpl
def register_blueprints():
    return [bp]


@hookimpl
def register_api_blueprints():
    return [api.bp]


@hookimpl
def register_nav_items():
    return [NavItem(_l("Wiki"), "wiki.index", members_only=True, order=40)]


PROFILE_ARTICLES = 5


def _articles_section(member, viewer):
    """On a member's Overview: the latest wiki articles they started, and the way to all."""
    articles = services.articles_by(member, limit=PROFILE_ARTICLES + 1)
    if not articles and member.id != viewer.id:
        return None
    return render_template(
        "wiki/_profile.html",
        member=member,
        articles=articles[:PROFILE_ARTICLES],
        more=len(articles) > PROFILE_ARTICLES,
    )


@hookimpl
def register_profile_sections():
    return [ProfileSection("overview", _l("Wiki articles"), _articles_section, order=40)]


@hookimpl
def register_home_counters():
    return [HomeCounter(_l("wiki articles"), services.count_articles, order=40)]


@hookimpl
def register_activity_kinds():
    return [
        ActivityKind(services.ARTICLE_CREATED, _l("Wrote a wiki article")),
        ActivityKind(services.ARTICLE_EDITED, _l("Improved a wiki article")),
        ActivityKind(services.ARTICLE_RATED, _l("Rated a wiki article")),
    ]


@hookimpl
def register_report_kinds():
    return reports.report_kinds()


@hookimpl
def register_settings():
    return services.SETTINGS


@hookimpl
def register_migrations():
    return [Path(__file__).parent / "migrations"]


@hookimpl
def demo_users_created(users):
    add_demo_articles(users)


@hookimpl
def export_member_data(user):
    return wiki_part(user)


@hookimpl
def register_statistics():
    return [
        Statistic("wiki.articles", _l("Wiki articles"), now=services.count_articles, order=50),
        Statistic(
            "wiki.articles_created",
            _l("Wiki articles written"),
            per_month=lambda months: count_per_month(months, Article.created_at),
            order=50,
        ),
    ]


@hookimpl
def member_erasing(user):
    account_end.erase_member(user)
