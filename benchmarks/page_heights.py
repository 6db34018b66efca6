"""Page heights on a phone (390 px wide), in Chromium, on a served demo: the long pages of issue 13, item 11.

    .venv/bin/python -m grenier demo &            # serves the demo on http://127.0.0.1:8000
    .venv/bin/python benchmarks/page_heights.py [--base http://127.0.0.1:8000] [--chromium /usr/bin/chromium] [--sections]

Prints one markdown row per page: its path and its height in CSS pixels (document.scrollHeight).
"""

from __future__ import annotations

import argparse

from playwright.sync_api import sync_playwright

PAGES = [  # (who logs in, path)
    ("coordinator@demo.grenier.test", "/t/demo/baskets/gardens/1/"),
    ("coordinator@demo.grenier.test", "/t/demo/baskets/referrals/"),
    ("social@demo.grenier.test", "/t/demo/baskets/referrals/"),
    ("coordinator@demo.grenier.test", "/t/demo/supply/development-fund/"),
    ("coordinator@demo.grenier.test", "/t/demo/households/"),
    ("coordinator@demo.grenier.test", "/t/demo/fund/settlements/"),
]


# Each child of <main>: its tag, its heading (or its first words) and its height.
SECTIONS = """[...document.querySelector('main').children].map(e => [
    e.tagName.toLowerCase(),
    (e.querySelector('h1,h2,summary') || e).textContent.trim().replace(/\\s+/g, ' '),
    Math.round(e.getBoundingClientRect().height),
])"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", default="http://127.0.0.1:8000")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--password", default="grenier-demo")
    parser.add_argument(
        "--sections", action="store_true", help="Also print the height of each part of <main>."
    )
    args = parser.parse_args()
    print("| who | page | height (px, 390 px wide) |\n|---|---|---|")
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=args.chromium,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        for email, path in PAGES:
            context = browser.new_context(viewport={"width": 390, "height": 844}, locale="fr-FR")
            page = context.new_page()
            page.goto(args.base + "/accounts/login/")
            page.get_by_label("Adresse e-mail").fill(email)
            page.get_by_label("Mot de passe").fill(args.password)
            page.get_by_role("button", name="Se connecter").click()
            page.wait_for_load_state()
            response = page.goto(args.base + path)
            height = page.evaluate("document.documentElement.scrollHeight")
            print(f"| {email.split('@')[0]} | {path} ({response.status if response else '?'}) | {height:,} |")
            if args.sections:
                for tag, label, part in page.evaluate(SECTIONS):
                    print(f"|   | {tag} {label[:60]} | {part:,} |")
            context.close()
        browser.close()


if __name__ == "__main__":
    main()
