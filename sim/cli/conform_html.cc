#include "sim/cli/conform_html.h"

namespace hooksim {

ConformPicture ConformHtmlPicture(const ConformOptions& options,
                                  const std::vector<CaseResult>& results,
                                  Duration total, bool interrupted) {
  ConformPicture p;
  p.command = options.command;
  p.sender_cmd = options.sender_cmd;
  p.seed = options.battery.seed;
  p.total_s = static_cast<double>(total.count()) / 1e6;
  p.interrupted = interrupted;
  for (const CaseResult& r : results) {
    ConformCasePicture c;
    c.name = r.c.name;
    c.behaviour = r.c.behaviour;
    c.expected_attempts = r.c.expected_attempts;
    c.why = r.c.why;
    c.events = r.c.events.size();
    c.elapsed_us = r.elapsed.count();
    const CaseObservation& obs = r.observation;
    c.sender_ran_us = obs.sender.ended ? obs.sender.ran.count() : 0;
    c.sender = DescribeSender(obs);
    if (c.sender.rfind("the sender ", 0) == 0) c.sender.erase(0, 11);
    c.stdout_text = obs.sender.stdout_text;
    c.stderr_text = obs.sender.stderr_text;
    c.dropped_requests = obs.dropped_requests;
    for (const ObservedRequest& q : obs.requests) {
      c.requests.push_back({q.at.count(), q.method, q.target,
                            MatchEvent(r.c, q.body_hash, q.body_size),
                            DescribeAnswer(q.answer), q.answer.IsSuccess(),
                            q.abandoned});
    }
    for (const RuleVerdict& v : r.verdicts) {
      c.rules.push_back({v.rule, v.contract,
                         std::string(VerdictName(v.verdict)), v.expected,
                         v.seen, v.message});
    }
    p.cases.push_back(std::move(c));
  }
  return p;
}

}  // namespace hooksim
