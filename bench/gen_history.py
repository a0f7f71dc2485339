#!/usr/bin/env python3
"""Writes N interactions of one user as JSON Lines (the `omniflow import` format) to stdout.

Each line is bench/interaction.json with its own timestamp (one second apart, oldest first), a
numbered user message, and a thread id: conversations of 25 turns, except that every 10,000th
interaction (offset 5,000) belongs to the rare thread, which therefore holds N / 10,000 of them.
Usage: gen_history.py N USER RARE_THREAD > history.jsonl
"""
import datetime
import json
import os
import sys


def main():
    n, user, rare = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "interaction.json"), encoding="utf-8") as f:
        sample = json.load(f)
    message = sample.pop("user_message")
    sample.pop("thread_id", None)
    # Everything after the varying fields, serialised once.
    tail = json.dumps(sample, separators=(",", ":"), ensure_ascii=False)[1:]
    head = '{"user_id":' + json.dumps(user) + ',"timestamp":"'
    base = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
    out = sys.stdout
    lines = []
    for i in range(n):
        ts = (base + datetime.timedelta(seconds=i)).strftime("%Y-%m-%dT%H:%M:%S.000000Z")
        thread = rare if i % 10000 == 5000 else "thread_%d" % (i // 25)
        lines.append(head + ts + '","thread_id":"' + thread + '","user_message":' +
                     json.dumps("%s (#%d)" % (message, i), ensure_ascii=False) + "," + tail + "\n")
        if len(lines) == 10000:
            out.write("".join(lines))
            lines.clear()
    out.write("".join(lines))


if __name__ == "__main__":
    main()
