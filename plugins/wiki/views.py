"""The wiki's pages: thin views that parse, authorize through the services, and render.
The wiki is for members: every page needs a login."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup, escape

from core.api import (
    ConfirmForm,
    InvalidInput,
    User,
    db,
    page_number,
    run_action,
    whole_number,
)
from plugins.wiki import services
from plugins.wiki.forms import ArticleForm, EditForm, PreviewForm, RatingForm
from plugins.wiki.models import Article
from plugins.wiki.rendering import render_markdown

bp = Blueprint(
    "wiki",
    __name__,
    url_prefix="/wiki",
    template_folder="templates",
    static_folder="static",
)

LISTS = {"recent": services.recent_articles, "top": services.top_rated_articles}


@bp.before_request
@login_required
def members_only() -> None:
    """Every wiki page is for members."""


@bp.app_template_filter("wiki_snippet")
def wiki_snippet(snippet: str) -> Markup:
    """A search snippet, escaped, with the matched words marked."""
    return Markup(
        escape(snippet)
        .replace(services.HIGHLIGHT_START, Markup("<mark>"))
        .replace(services.HIGHLIGHT_END, Markup("</mark>"))
    )


wiki_article_url = bp.app_template_global("wiki_article_url")(services.article_path)


def shown_article(article_id: int) -> Article:
    """The article, unless the moderators hid it: then every page of it says so instead."""
    found = services.article_by_id(article_id)
    if found.hidden_at is not None:
        abort(make_response(render_template("wiki/hidden.html", article=found)))
    return found


# ---- lists -------------------------------------------------------------------------------


@bp.get("/")
def index():
    return render_template(
        "wiki/index.html",
        recent=services.recent_articles().items[:8],
        top=services.top_rated_articles().items[:5],
        tags=services.popular_tags(),
    )


@bp.get("/articles")
def articles():
    order = request.args.get("sort", "recent")
    if order not in LISTS:
        order = "recent"
    return render_template("wiki/list.html", order=order, result=LISTS[order](page_number()))


@bp.get("/by/<int:user_id>")
def by_author(user_id: int):
    author = db.get_or_404(User, user_id)
    return render_template(
        "wiki/list.html",
        order="author",
        author=author,
        result=services.articles_by_page(author, page_number()),
    )


@bp.get("/tags/<path:key>")  # a tag may hold a slash ("CI/CD")
def tagged(key: str):
    tag = services.tag_by_key(key)
    return render_template(
        "wiki/list.html", order="tag", tag=tag, result=services.tagged_articles(tag, page_number())
    )


@bp.get("/search")
def search():
    query = request.args.get("q", "")[:200]
    return render_template(
        "wiki/search.html",
        query=query,
        words=services.search_words(query),
        result=services.search_articles(query, page_number()),
    )


# ---- writing -----------------------------------------------------------------------------


@bp.route("/new", methods=["GET", "POST"])
def new():
    form = ArticleForm()
    preview = None
    if form.is_submitted() and "preview" in request.form:
        preview = Markup(render_markdown(form.body.data or ""))
    elif form.validate_on_submit():
        try:
            services.EDITS.hit()
            article = services.create_article(
                current_user,
                form.title.data,
                form.body.data,
                tags=form.tags.data or "",
            )
        except InvalidInput as error:
            db.session.rollback()
            flash(str(error), "danger")
        else:
            db.session.commit()
            flash(_("Your article is published. Thank you for sharing!"), "success")
            return redirect(wiki_article_url(article))
    status = 400 if form.is_submitted() and preview is None else 200
    return render_template(
        "wiki/edit.html", form=form, article=None, preview=preview, conflict=None
    ), status


@bp.route("/<int:article_id>/edit", methods=["GET", "POST"])
def edit(article_id: int):
    article = shown_article(article_id)
    form = EditForm()
    if not form.is_submitted():
        form.title.data, form.body.data = article.title, article.body
        form.tags.data = ", ".join(tag.name for tag in article.tags)
        form.base_revision.data = str(article.revision_number)
    preview = conflict = None
    if form.is_submitted() and "preview" in request.form:
        preview = Markup(render_markdown(form.body.data or ""))
    elif form.validate_on_submit():
        try:
            services.EDITS.hit()
            services.save_article(
                article.id,
                current_user,
                base_number=_revision_number(form.base_revision.data),
                title=form.title.data or "",
                body=form.body.data or "",
                tags=form.tags.data or "",
                summary=form.summary.data or "",
            )
        except services.EditConflict:
            db.session.rollback()
            article = services.article_by_id(article_id)
            # their text stays in the form; saving again now replaces the current text
            theirs = (form.body.data or "").replace("\r\n", "\n")
            conflict = services.line_diff(article.body, theirs)
            form.base_revision.data = str(article.revision_number)
        except InvalidInput as error:
            db.session.rollback()
            flash(str(error), "danger")
        else:
            db.session.commit()
            flash(_("Your changes are saved."), "success")
            return redirect(wiki_article_url(article))
    status = 409 if conflict is not None else 400 if form.is_submitted() and not preview else 200
    return render_template(
        "wiki/edit.html", form=form, article=article, preview=preview, conflict=conflict
    ), status


def _revision_number(value: str | None) -> int:
    number = whole_number(value)
    if number is None:
        raise InvalidInput(_("The form is out of date: reload the page and edit again."))
    return number


@bp.post("/preview")
def preview():
    """The live preview's HTML (the edit page's script posts the text here as it changes)."""
    form = PreviewForm()
    if not form.validate_on_submit():
        return jsonify(error=_("The text is too long to preview.")), 400
    return jsonify(html=render_markdown(form.body.data or ""))


# ---- reading -----------------------------------------------------------------------------


@bp.get("/<int:article_id>")
def article_by_id(article_id: int):
    return redirect(wiki_article_url(services.article_by_id(article_id)), 301)


@bp.get("/<int:article_id>-<slug>")
def article(article_id: int, slug: str):
    reading = services.article_to_read(article_id, current_user)
    found, mine = reading.article, reading.stars_given
    if slug != found.slug:  # renamed since the link was made
        return redirect(wiki_article_url(found), 301)
    if found.hidden_at is not None:
        return render_template("wiki/hidden.html", article=found)
    rating_form = RatingForm(formdata=None, stars=str(mine) if mine else None)
    return render_template(
        "wiki/article.html",
        article=found,
        tags=reading.tags,
        text_hidden=reading.text_hidden,
        average=reading.average,
        count=reading.count,
        my_rating=mine,
        rating_form=rating_form,
        may_rate=services.may_rate(found, current_user),
        may_delete=services.may_delete(found, current_user),
    )


@bp.get("/<int:article_id>/history")
def history(article_id: int):
    found = shown_article(article_id)
    return render_template(
        "wiki/history.html",
        article=found,
        result=services.history(found, page_number()),
        restore_form=ConfirmForm(),
    )


@bp.get("/<int:article_id>/revisions/<int:number>")
def revision(article_id: int, number: int):
    found = shown_article(article_id)
    return render_template(
        "wiki/revision.html",
        article=found,
        revision=services.revision_of(found, number),
        restore_form=ConfirmForm(),
    )


@bp.get("/<int:article_id>/compare")
def compare(article_id: int):
    found = shown_article(article_id)
    old, new = services.compared_revisions(
        found, whole_number(request.args.get("old")), whole_number(request.args.get("new"))
    )
    return render_template(
        "wiki/compare.html",
        article=found,
        old=old,
        new=new,
        lines=services.line_diff(old.body, new.body),
    )


# ---- acting on an article -------------------------------------------------------------------


@bp.post("/<int:article_id>/revisions/<int:number>/restore")
def restore(article_id: int, number: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        services.restore_revision(article_id, current_user, number)
    except InvalidInput as error:
        db.session.rollback()
        flash(str(error), "danger")
        return redirect(url_for("wiki.history", article_id=article_id))
    db.session.commit()
    flash(_("Revision %(n)d is the current text again.", n=number), "success")
    return redirect(wiki_article_url(services.article_by_id(article_id)))


@bp.post("/<int:article_id>/rating")
def rate(article_id: int):
    form = RatingForm()
    back = wiki_article_url(services.article_by_id(article_id)) + "#rating"
    if not form.validate_on_submit():
        flash(_("Choose from 1 to 5 stars."), "danger")
        return redirect(back)
    return run_action(
        lambda: services.rate_article(article_id, current_user, int(form.stars.data)),
        success=_("Thank you for rating this article."),
        back=back,
    )


@bp.route("/<int:article_id>/delete", methods=["GET", "POST"])
def delete(article_id: int):
    """A page to confirm first; the article goes only on its form's post."""
    found = services.article_by_id(article_id)
    if not services.may_delete(found, current_user):
        abort(403)
    form = ConfirmForm()
    if form.validate_on_submit():
        title = services.delete_article(article_id, current_user)
        db.session.commit()
        flash(_("“%(title)s” is deleted.", title=title), "success")
        return redirect(url_for("wiki.index"))
    return render_template(
        "wiki/delete.html", article=found, form=form, ratings=services.count_ratings(found)
    )
