#!/usr/bin/python3
"""Opens hooksim's HTML reports in headless Chromium and checks them.

Generates four reports with the hooksim binary under test, each with the
JSON report of the same run: a passing run (the bundled scenarios), a
failing run (examples/failing/), a conform run (examples/senders/'s
requests sender, a few cases) and a bench run. Then, in one headless
Chromium driven over the DevTools protocol (--remote-debugging-pipe,
Python's standard library only), it opens each file and checks:

  - no console error, no uncaught exception, no error in the log;
  - no network request leaves the file (requests other than the file's own
    are recorded, and blocked so nothing goes out);
  - the DOM holds the numbers of the JSON report: scenarios, deliveries,
    attempts, lanes and marks drawn, gave-up marks, failing rules; conform
    cases, cells per verdict, requests per event; bench deliveries per
    second, outcomes, latency sample counts;
  - the run page is the same byte for byte when the run is repeated, and a
    page of the bundled scenarios is under 2 MB.

It saves a screenshot of each page (NAME.png) and the pages themselves in
--out. Chromium is Debian's `chromium` (scripts/setup.sh installs it). When
it is missing the test fails under CI (CI set in the environment) and is
skipped (exit 77) elsewhere, saying so.
"""
import argparse
import base64
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time

SKIP = 77
MAX_PAGE_BYTES = 2 * 1024 * 1024
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL: " + what, flush=True)
    return cond


def run(cmd, expect_rc, cwd):
    started = time.monotonic()
    p = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=240)
    print("$ %s  -> exit %d in %.1f s" % (" ".join(cmd), p.returncode,
                                          time.monotonic() - started),
          flush=True)
    if p.returncode not in expect_rc:
        print(p.stdout[-3000:], p.stderr[-3000:])
        raise SystemExit("unexpected exit code %d (expected %s)" %
                         (p.returncode, expect_rc))
    return p


class Chromium:
    """One headless Chromium over --remote-debugging-pipe (fds 3 and 4)."""

    FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking",
             "--disable-component-update", "--disable-sync",
             "--disable-default-apps", "--disable-extensions",
             "--hide-scrollbars", "--host-resolver-rules=MAP * ~NOTFOUND",
             "--remote-debugging-pipe"]

    def __init__(self, binary):
        self.profile = tempfile.mkdtemp(prefix="hooksim-chromium-")
        to_chrome_r, self.to_chrome = os.pipe()
        self.from_chrome, from_chrome_w = os.pipe()

        def child_fds():
            a, b = os.dup(to_chrome_r), os.dup(from_chrome_w)
            os.dup2(a, 3)
            os.dup2(b, 4)

        self.log = open(os.path.join(self.profile, "chromium.log"), "w")
        self.proc = subprocess.Popen(
            [binary] + self.FLAGS + ["--user-data-dir=" + self.profile,
                                     "about:blank"],
            preexec_fn=child_fds, close_fds=False, stdin=subprocess.DEVNULL,
            stdout=self.log, stderr=self.log)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self.buf = b""
        self.next_id = 0
        self.events = []

    def send(self, method, params=None, session=None):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self.to_chrome, json.dumps(msg).encode() + b"\0")
        return self.next_id

    def recv(self, deadline):
        while b"\0" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no answer from chromium")
            ready, _, _ = select.select([self.from_chrome], [], [], left)
            if not ready:
                continue
            chunk = os.read(self.from_chrome, 1 << 20)
            if not chunk:
                raise RuntimeError("chromium closed the pipe (see %s)" %
                                   self.log.name)
            self.buf += chunk
        msg, self.buf = self.buf.split(b"\0", 1)
        return json.loads(msg)

    def call(self, method, params=None, session=None, timeout=30):
        i = self.send(method, params, session)
        deadline = time.monotonic() + timeout
        while True:
            m = self.recv(deadline)
            if m.get("id") == i:
                if "error" in m:
                    raise RuntimeError("%s: %s" % (method, m["error"]))
                return m.get("result", {})
            self.events.append(m)

    def wait_event(self, method, session, timeout=30):
        deadline = time.monotonic() + timeout
        while True:
            for m in self.events:
                if m.get("method") == method and m.get("sessionId") == session:
                    return m
            self.events.append(self.recv(deadline))

    def drain(self, seconds):
        deadline = time.monotonic() + seconds
        try:
            while True:
                self.events.append(self.recv(deadline))
        except TimeoutError:
            pass

    def open(self, path):
        """Loads path; returns (session, console errors, outside requests)."""
        self.events = []
        target = self.call("Target.createTarget", {"url": "about:blank"})
        session = self.call("Target.attachToTarget",
                            {"targetId": target["targetId"],
                             "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Network", "Log"):
            self.call(domain + ".enable", session=session)
        # Anything but the file itself is recorded below and blocked here.
        self.call("Network.setBlockedURLs",
                  {"urls": ["http://*", "https://*", "ws://*", "wss://*",
                            "ftp://*"]}, session=session)
        self.call("Emulation.setDeviceMetricsOverride",
                  {"width": 1280, "height": 900, "deviceScaleFactor": 1,
                   "mobile": False}, session=session)
        url = "file://" + os.path.abspath(path)
        self.call("Page.navigate", {"url": url}, session=session)
        self.wait_event("Page.loadEventFired", session)
        self.drain(0.3)  # Late console messages, if any.
        errors, outside = [], []
        for m in self.events:
            method, p = m.get("method"), m.get("params", {})
            if m.get("sessionId") != session:
                continue
            if method == "Runtime.consoleAPICalled" and p.get("type") in (
                    "error", "assert"):
                errors.append("console.%s: %s" % (p["type"], json.dumps(
                    p.get("args"))[:300]))
            elif method == "Runtime.exceptionThrown":
                errors.append("exception: " + json.dumps(
                    p.get("exceptionDetails"))[:300])
            elif method == "Log.entryAdded" and p["entry"].get("level") == "error":
                errors.append("log: " + p["entry"].get("text", "")[:300])
            elif method == "Network.requestWillBeSent":
                req_url = p["request"]["url"]
                if req_url != url and not req_url.startswith(("data:", "about:")):
                    outside.append(req_url)
        return session, errors, outside

    def evaluate(self, session, expression):
        r = self.call("Runtime.evaluate", {"expression": expression,
                                           "returnByValue": True},
                      session=session)
        if "exceptionDetails" in r:
            raise RuntimeError("evaluate: %s" % r["exceptionDetails"])
        return r["result"].get("value")

    def screenshot(self, session, path, max_height):
        height = self.evaluate(
            session, "document.documentElement.scrollHeight")
        clip = {"x": 0, "y": 0, "width": 1280,
                "height": min(int(height), max_height), "scale": 1}
        shot = self.call("Page.captureScreenshot",
                         {"format": "png", "clip": clip,
                          "captureBeyondViewport": True}, session=session,
                         timeout=60)
        with open(path, "wb") as f:
            f.write(base64.b64decode(shot["data"]))

    def screenshot_element(self, session, selector, path):
        box = self.evaluate(session, """(() => {
            const e = document.querySelector(%s);
            if (!e) return null;
            const b = e.getBoundingClientRect();
            return [b.x, b.y + window.scrollY, b.width, b.height];
        })()""" % json.dumps(selector))
        if not check(box is not None, "no element %s to photograph" % selector):
            return
        clip = {"x": box[0] - 8, "y": box[1] - 8, "width": box[2] + 16,
                "height": box[3] + 16, "scale": 1}
        shot = self.call("Page.captureScreenshot",
                         {"format": "png", "clip": clip,
                          "captureBeyondViewport": True}, session=session,
                         timeout=60)
        with open(path, "wb") as f:
            f.write(base64.b64decode(shot["data"]))

    def close(self):
        try:
            self.call("Browser.close", timeout=10)
        except Exception:  # Already gone: kill below.
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self.to_chrome)
        os.close(self.from_chrome)
        self.log.close()
        shutil.rmtree(self.profile, ignore_errors=True)


RUN_DOM = """(() => {
  const num = (e, k) => Number(e.getAttribute(k));
  const s = document.querySelector('.summary');
  return {
    summary: {scenarios: num(s, 'data-scenarios'), passed: num(s, 'data-passed'),
              failed: num(s, 'data-failed')},
    scenarios: [...document.querySelectorAll('section.scenario')].map(sec => ({
      name: sec.dataset.name,
      passed: sec.dataset.passed === '1',
      deliveries: num(sec, 'data-deliveries'), attempts: num(sec, 'data-attempts'),
      delivered: num(sec, 'data-delivered'), gave_up: num(sec, 'data-gave-up'),
      held: num(sec, 'data-held'), lanes_said: num(sec, 'data-lanes'),
      limit: num(sec, 'data-lane-limit'),
      lanes: [...sec.querySelectorAll('g.lane')].map(l => ({
        state: l.dataset.state, attempts: Number(l.dataset.attempts),
        finding: l.dataset.finding === '1',
        marks: l.querySelectorAll('.mark').length,
        gaveup_marks: l.querySelectorAll('.gaveup-mark').length})),
      hooks_deliveries: [...sec.querySelectorAll('g.hook')].reduce(
          (a, h) => a + num(h, 'data-deliveries'), 0),
      failing_rules: [...sec.querySelectorAll('tr.rule[data-passed="0"]')]
          .map(r => r.dataset.rule),
      rules: sec.querySelectorAll('tr.rule').length,
      bars: [...sec.querySelectorAll('g.attempt-bar')].reduce(
          (a, b) => a + num(b, 'data-count'), 0),
      lanes_note: sec.querySelector('.lanes-note').textContent,
    })),
  };
})()"""

CONFORM_DOM = """(() => {
  const cells = v => document.querySelectorAll('td.cell[data-verdict="' + v + '"]').length;
  return {
    cases: document.querySelectorAll('tr.case-row').length,
    sections: [...document.querySelectorAll('section.case')].map(s => ({
      name: s.dataset.case, requests: Number(s.dataset.requests),
      marks: [...s.querySelectorAll('svg.requests .mark')].map(m => Number(m.dataset.event)),
      stderr: s.querySelector('pre.stderr').textContent,
      rules: [...s.querySelectorAll('table.case-rules tr[data-verdict]')].map(r => r.dataset.verdict)})),
    pass: cells('pass'), fail: cells('fail'), cnj: cells('could-not-judge'),
  };
})()"""

BENCH_DOM = """(() => {
  const s = document.querySelector('.summary');
  const tp = document.querySelector('svg.throughput');
  return {
    deliveries: Number(s.dataset.deliveries), attempts: Number(s.dataset.attempts),
    buckets: Number(tp.dataset.buckets),
    bars: [...tp.querySelectorAll('rect.tp')].map(r => Number(r.dataset.n)),
    outcomes: Object.fromEntries([...document.querySelectorAll('table.errors tr[data-kind]')]
        .map(r => [r.dataset.kind, Number(r.dataset.count)])),
    errors: [...document.querySelectorAll('table.errors tr.error')].map(r => r.dataset.kind),
    latency: Object.fromEntries([...document.querySelectorAll('div.latency')]
        .map(d => [d.dataset.name, Number(d.dataset.count)])),
    thresholds: !!document.getElementById('thresholds'),
  };
})()"""


def check_run(dom, report, label):
    js = report["scenarios"]
    check(dom["summary"] == {"scenarios": len(js),
                             "passed": report["summary"]["passed"],
                             "failed": report["summary"]["failed"]},
          "%s: summary %s" % (label, dom["summary"]))
    check(len(dom["scenarios"]) == len(js),
          "%s: %d scenario sections, JSON has %d" %
          (label, len(dom["scenarios"]), len(js)))
    total_lanes = total_marks = 0
    for d, j in zip(dom["scenarios"], js):
        name = "%s/%s" % (label, j["name"])
        for key in ("name", "passed", "deliveries", "attempts", "delivered",
                    "gave_up", "held"):
            check(d[key] == j[key], "%s: %s is %r, JSON %r" %
                  (name, key, d[key], j[key]))
        lanes = d["lanes"]
        want = min(d["limit"], j["deliveries"])
        check(len(lanes) == want and d["lanes_said"] == want,
              "%s: %d lanes drawn (says %d), expected %d" %
              (name, len(lanes), d["lanes_said"], want))
        check(("%d of %s" % (want, "{:,}".format(j["deliveries"])))
              in d["lanes_note"], "%s: note %r" % (name, d["lanes_note"]))
        for lane in lanes:
            check(lane["marks"] == lane["attempts"],
                  "%s: a lane has %d marks for %d attempts" %
                  (name, lane["marks"], lane["attempts"]))
            check(lane["gaveup_marks"] == (1 if lane["state"] == "gave_up"
                                           else 0),
                  "%s: gave-up mark on a %s lane" % (name, lane["state"]))
        marks = sum(lane["marks"] for lane in lanes)
        gave_up_lanes = sum(lane["state"] == "gave_up" for lane in lanes)
        if j["deliveries"] <= d["limit"]:
            check(marks == j["attempts"], "%s: %d marks, JSON %d attempts" %
                  (name, marks, j["attempts"]))
            check(gave_up_lanes == j["gave_up"],
                  "%s: %d gave-up lanes, JSON %d" %
                  (name, gave_up_lanes, j["gave_up"]))
        else:
            # Gave-up deliveries are drawn before the sample, up to half of
            # the lanes left after those named in a finding.
            findings = sum(l["finding"] and l["state"] != "gave_up"
                           for l in lanes)
            check(gave_up_lanes >= min(j["gave_up"], (want - findings + 1) // 2),
                  "%s: %d gave-up lanes of %d" % (name, gave_up_lanes,
                                                 j["gave_up"]))
        check(d["bars"] == j["deliveries"] and
              d["hooks_deliveries"] == j["deliveries"],
              "%s: attempts chart counts %d, hooks %d, JSON %d deliveries" %
              (name, d["bars"], d["hooks_deliveries"], j["deliveries"]))
        failing = [r["rule"] for r in j["rules"] if not r["passed"]]
        check(d["failing_rules"] == failing and d["rules"] == len(j["rules"]),
              "%s: failing rules %s, JSON %s" % (name, d["failing_rules"],
                                                 failing))
        total_lanes += len(lanes)
        total_marks += marks
    print("  %s: %d scenarios, %d lanes, %d marks" %
          (label, len(js), total_lanes, total_marks))


def check_conform(dom, report):
    cases = report["cases"]
    check(dom["cases"] == len(cases), "conform: %d case rows, JSON %d" %
          (dom["cases"], len(cases)))
    verdicts = [r["verdict"] for c in cases for r in c["rules"]]
    for key, verdict in (("pass", "pass"), ("fail", "fail"),
                         ("cnj", "could-not-judge")):
        check(dom[key] == verdicts.count(verdict),
              "conform: %d %s cells, JSON %d" % (dom[key], verdict,
                                                 verdicts.count(verdict)))
    check(verdicts.count("fail") > 0, "conform: the run has failing cells")
    for d, j in zip(dom["sections"], cases):
        check(d["name"] == j["name"] and d["requests"] == len(j["requests"]),
              "conform/%s: %d requests, JSON %d" % (j["name"], d["requests"],
                                                    len(j["requests"])))
        want = sorted(q["event"] or 0 for q in j["requests"])
        check(sorted(d["marks"]) == want,
              "conform/%s: marks per event %s, JSON %s" %
              (j["name"], sorted(d["marks"]), want))
        check(d["rules"] == [r["verdict"] for r in j["rules"]],
              "conform/%s: rule verdicts differ" % j["name"])
        check(d["stderr"] == (j["sender"]["stderr"] or "(empty)"),
              "conform/%s: stderr shown differs from the JSON's" % j["name"])
    print("  conform: %d cases, %d cells (%d fail)" %
          (dom["cases"], len(verdicts), dom["fail"]))


def check_bench(dom, report):
    tp = report["throughput"]
    check(dom["deliveries"] == report["deliveries"] and
          dom["attempts"] == report["attempts"],
          "bench: deliveries/attempts %d/%d, JSON %d/%d" %
          (dom["deliveries"], dom["attempts"], report["deliveries"],
           report["attempts"]))
    check(dom["buckets"] == len(tp["deliveries"]) and
          dom["bars"] == tp["deliveries"],
          "bench: per-second bars %s, JSON %s" % (dom["bars"],
                                                  tp["deliveries"]))
    check(sum(dom["bars"]) == report["deliveries"],
          "bench: per-second bars add up to %d, JSON %d deliveries" %
          (sum(dom["bars"]), report["deliveries"]))
    check(dom["outcomes"] == report["outcomes"],
          "bench: outcomes %s, JSON %s" % (dom["outcomes"], report["outcomes"]))
    check(sorted(dom["errors"]) == sorted(report["errors"].keys()),
          "bench: errors %s, JSON %s" % (dom["errors"], report["errors"]))
    check(dom["latency"] == {
        "delivery": report["latency_ms"]["count"],
        "attempt": report["attempt_latency_ms"]["count"]},
        "bench: latency counts %s" % dom["latency"])
    check(dom["thresholds"], "bench: a place for thresholds")
    print("  bench: %d deliveries over %d intervals" %
          (dom["deliveries"], dom["buckets"]))


def find_chromium():
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hooksim", required=True)
    ap.add_argument("--source", required=True, help="the repository")
    ap.add_argument("--out", required=True, help="artifacts go here")
    args = ap.parse_args()
    browser = find_chromium()
    if not browser:
        msg = ("headless Chromium not found (Debian package `chromium`; "
               "bash scripts/setup.sh or scripts/test.sh installs it)")
        if os.environ.get("CI"):
            print("FAIL: " + msg + "; under CI this is a failure")
            return 1
        print("SKIP: " + msg)
        return SKIP

    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    hooksim = os.path.abspath(args.hooksim)
    src = args.source
    p = lambda name: os.path.join(out, name)

    # The reports, each with the JSON of the same run; the passing run twice
    # (the same command: the page shows it) to compare the pages.
    pass_cmd = [hooksim, "run", "scenarios", "--report-html",
                p("run-pass.html"), "--report-json", p("run-pass.json")]
    run(pass_cmd, [0], src)
    shutil.copyfile(p("run-pass.html"), p("run-pass-2.html"))
    run(pass_cmd, [0], src)
    run([hooksim, "run", "examples/failing", "--report-html",
         p("run-fail.html"), "--report-json", p("run-fail.json")], [1], src)
    run([hooksim, "conform", "--sender-cmd",
         "/usr/bin/python3 examples/senders/requests_retry_sender.py",
         "--cases", "ok-200,503-then-200,not-found-404,redirect-302",
         "--parallel", "4", "--quiet-ms", "300", "--case-timeout-s", "60",
         "--report-html", p("conform.html"), "--report-json",
         p("conform.json")], [1], src)
    run([hooksim, "bench", "--duration-s", "2.2", "--failure-rate", "0.2",
         "--concurrency", "4", "--report-html", p("bench.html"),
         "--report-json", p("bench.json")], [0], src)

    with open(p("run-pass.html"), "rb") as a, open(p("run-pass-2.html"),
                                                    "rb") as b:
        check(a.read() == b.read(),
              "run page differs between two runs of the same seeds")
    sizes = {name: os.path.getsize(p(name)) for name in
             ("run-pass.html", "run-fail.html", "conform.html", "bench.html")}
    for name, size in sizes.items():
        print("  %-14s %9d bytes" % (name, size))
    check(sizes["run-pass.html"] < MAX_PAGE_BYTES,
          "the bundled scenarios' page is %d bytes (limit %d)" %
          (sizes["run-pass.html"], MAX_PAGE_BYTES))

    chromium = Chromium(browser)
    try:
        for page, report, dom_js, checker, shot_height in (
                ("run-pass", "run-pass.json", RUN_DOM,
                 lambda d, r: check_run(d, r, "run-pass"), 3000),
                ("run-fail", "run-fail.json", RUN_DOM,
                 lambda d, r: check_run(d, r, "run-fail"), 1400),
                ("conform", "conform.json", CONFORM_DOM, check_conform, 3000),
                ("bench", "bench.json", BENCH_DOM, check_bench, 3000)):
            session, errors, outside = chromium.open(p(page + ".html"))
            check(not errors, "%s: console errors: %s" % (page, errors))
            check(not outside, "%s: requests leave the file: %s" %
                  (page, outside))
            with open(p(report)) as f:
                checker(chromium.evaluate(session, dom_js), json.load(f))
            chromium.screenshot(session, p(page + ".png"), shot_height)
            print("  %s: screenshot %s" % (page, p(page + ".png")), flush=True)
            if page == "run-pass":
                # The README's picture (docs/run-report.png is a copy).
                chromium.screenshot_element(
                    session, 'section[data-name="two-hour-outage"]',
                    p("readme-run-report.png"))
    finally:
        chromium.close()

    if failures:
        print("%d check(s) failed" % len(failures))
        return 1
    print("all HTML report checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
