#!/usr/bin/env python3
"""Writes the data lifecycle benchmark's store as JSON Lines (the `omniflow import` format).

N interactions in all, each bench/interaction.json with its own user, timestamp, message and
thread (conversations of 25 turns per user):
- PURGE_N old ones, 800 days ago and one second apart, of users old_0..old_9: past a 365-day
  retention policy, so a purge removes exactly these;
- ERASE_N of the user VICTIM, spread evenly among
- the other N - PURGE_N - ERASE_N recent ones (20 days ago onwards, one second apart), of users
  recent_0..recent_9.
Usage: gen_lifecycle.py N ERASE_N PURGE_N VICTIM > lifecycle.jsonl
"""
import datetime
import json
import os
import sys


def main():
    n, erase_n, purge_n, victim = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    if erase_n + purge_n > n:
        sys.exit("gen_lifecycle.py: ERASE_N + PURGE_N exceeds N")
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "interaction.json"), encoding="utf-8") as f:
        sample = json.load(f)
    message = sample.pop("user_message")
    sample.pop("thread_id", None)
    tail = json.dumps(sample, separators=(",", ":"), ensure_ascii=False)[1:]
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    old_base = now - datetime.timedelta(days=800)
    recent_base = now - datetime.timedelta(days=20)
    recent_n = n - purge_n
    step = recent_n // erase_n if erase_n else 0
    per_user = {}
    out = sys.stdout
    lines = []

    def emit(user, ts):
        k = per_user.get(user, 0)
        per_user[user] = k + 1
        lines.append('{"user_id":' + json.dumps(user) + ',"timestamp":"' +
                     ts.strftime("%Y-%m-%dT%H:%M:%S.000000Z") + '","thread_id":"thread_%d"' %
                     (k // 25) + ',"user_message":' +
                     json.dumps("%s (#%d)" % (message, k), ensure_ascii=False) + "," + tail + "\n")
        if len(lines) == 10000:
            out.write("".join(lines))
            lines.clear()

    for i in range(purge_n):
        emit("old_%d" % (i % 10), old_base + datetime.timedelta(seconds=i))
    victims = others = 0
    for j in range(recent_n):
        if step and j % step == 0 and victims < erase_n:
            user = victim
            victims += 1
        else:
            user = "recent_%d" % (others % 10)
            others += 1
        emit(user, recent_base + datetime.timedelta(seconds=j))
    out.write("".join(lines))


if __name__ == "__main__":
    main()
