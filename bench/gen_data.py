#!/usr/bin/env python3
"""Generates benchmark upstream data: DAYS daily lists of about PER_DAY papers each, in the real
item shape, as <out>/YYYY-MM-DD.json files that examples/mock_upstream.rs serves.

Titles, abstracts, keywords and authors are recombined from tests/fixtures (real Daily Papers
text), so search terms hit and miss as they would on real data. Deterministic for a given seed.

usage: gen_data.py OUT_DIR [--days 90] [--per-day 30] [--end 2026-08-14] [--seed 1] [--empty-weekends]
"""
import argparse
import datetime as dt
import glob
import json
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "tests", "fixtures", "hf-api", "daily_papers")


def load_pool():
    items = []
    for path in sorted(glob.glob(os.path.join(FIXTURES, "*.json"))):
        with open(path, encoding="utf-8") as f:
            for item in json.load(f):
                if isinstance(item, dict) and isinstance(item.get("paper"), dict):
                    items.append(item)
    return items


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--days", type=int, default=90)
    ap.add_argument("--per-day", type=int, default=30)
    ap.add_argument("--end", default="2026-08-14")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--empty-weekends", action="store_true", help="give Saturdays and Sundays [] as the real API does")
    args = ap.parse_args()

    rng = random.Random(args.seed)
    pool = load_pool()
    os.makedirs(args.out, exist_ok=True)
    end = dt.date.fromisoformat(args.end)
    serial = 0
    for back in range(args.days):
        day = end - dt.timedelta(days=back)
        items = []
        if day.weekday() < 5 or not args.empty_weekends:
            count = max(1, int(rng.gauss(args.per_day, args.per_day / 6)))
            for _ in range(count):
                serial += 1
                template = rng.choice(pool)
                donor = rng.choice(pool)
                item = json.loads(json.dumps(template))
                paper = item["paper"]
                pid = f"{day.strftime('%y%m')}.{serial:05d}"
                paper["id"] = pid
                paper["upvotes"] = int(rng.paretovariate(1.2)) - 1
                item["numComments"] = rng.randint(0, 12)
                paper["authors"] = donor["paper"].get("authors", [])
                if "ai_keywords" in donor["paper"]:
                    paper["ai_keywords"] = donor["paper"]["ai_keywords"]
                stamp = dt.datetime.combine(day, dt.time(rng.randint(0, 23), rng.randint(0, 59)))
                paper["submittedOnDailyAt"] = stamp.strftime("%Y-%m-%dT%H:%M:%S.000Z")
                item["thumbnail"] = f"https://cdn-thumbnails.huggingface.co/social-thumbnails/papers/{pid}.png"
                items.append(item)
            items.sort(key=lambda i: -i["paper"]["upvotes"])
        with open(os.path.join(args.out, f"{day.isoformat()}.json"), "w", encoding="utf-8") as f:
            json.dump(items, f, ensure_ascii=False)
    print(f"wrote {args.days} days, {serial} papers to {args.out}")


if __name__ == "__main__":
    main()
