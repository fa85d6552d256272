"""``/demo/``: a small website ("Acme Rockets") that carries Hearth's tracking snippet.

It shows the snippet at work without a website of one's own: a home page, pricing, a blog post
and a contact form (name and email), with links between them and one link carrying UTM
parameters. Every page embeds ``<script src="/hearth.js" data-site="...">`` with the site key
that `site_key_lookup` returns when the page is rendered (the demo workspace's, in
``make run``); when it returns None, the pages say the demo has no site key and carry no
snippet. The contact form posts here and is answered with a redirect to a thank-you page; the
submission is not stored (the snippet reports the email to Hearth).
"""

from collections.abc import Callable
from pathlib import Path
from typing import Final

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

__all__ = ["DEMO_PAGES", "demo_site_router"]

DEMO_TEMPLATES_DIRECTORY: Final = Path(__file__).resolve().parent.parent / "templates" / "demo"
#: Path → template of the demo's pages.
DEMO_PAGES: Final = {
    "/demo/": "home.html",
    "/demo/pricing": "pricing.html",
    "/demo/blog/warm-leads": "blog_post.html",
    "/demo/contact": "contact.html",
    "/demo/thanks": "thanks.html",
}


def demo_site_router(
    site_key_lookup: Callable[[], str | None],
    *,
    respect_privacy: bool = False,
    allow_automation: bool = False,
) -> APIRouter:
    """Serves the demo website under ``/demo/``.

    `site_key_lookup` is called for every page and returns the site key to embed, or None.
    `respect_privacy` and `allow_automation` set the snippet tag's ``data-respect-privacy``
    and ``data-allow-automation`` attributes (browser tests set the latter).
    """
    templates = Jinja2Templates(directory=DEMO_TEMPLATES_DIRECTORY)
    router = APIRouter()

    def render(request: Request, template: str) -> HTMLResponse:
        return templates.TemplateResponse(
            request,
            template,
            {
                "site_key": site_key_lookup(),
                "respect_privacy": respect_privacy,
                "allow_automation": allow_automation,
            },
        )

    def page(template: str) -> Callable[[Request], HTMLResponse]:
        def endpoint(request: Request) -> HTMLResponse:
            return render(request, template)

        return endpoint

    for path, template in DEMO_PAGES.items():
        router.add_api_route(
            path,
            page(template),
            methods=["GET"],
            response_class=HTMLResponse,
            include_in_schema=False,
        )

    @router.get("/demo", include_in_schema=False)
    def demo_root() -> RedirectResponse:
        return RedirectResponse("/demo/", status_code=308)

    @router.post("/demo/contact", include_in_schema=False)
    def contact_sent() -> RedirectResponse:
        # Nothing is kept: the snippet has already reported the email to Hearth.
        return RedirectResponse("/demo/thanks", status_code=303)

    return router
