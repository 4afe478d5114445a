// The compiled fast path for the bundled schemas (one RapidJSON SAX pass,
// payload_validator.cc: CompiledFastValid) against the reference, the full
// path (nlohmann/json + valijson, ValidateFully), on many kinds of bodies:
// generated release events, every field of the release schema given every
// type and edge value, missing, extra and duplicate keys, nesting at and
// over the depth limit, long strings, non-ASCII bytes, escapes, stray NUL
// bytes and random byte mutations. For each body: Validate's verdict is the
// full path's (validity, event and every issue, so the first one too), and
// whenever the fast path answers alone (FastVerdict) the body is valid and
// the full path says so with the same event.
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "sim/base/random.h"
#include "sim/contract/payload_validator.h"
#include "sim/contract/release_events.h"
#include "tests/payload_test_util.h"
#include "tests/test_util.h"

namespace hooksim {
namespace {

using Json = nlohmann::json;

std::shared_ptr<const PayloadValidator> Bundled() {
  auto validator = PayloadValidator::Bundled();
  EXPECT_TRUE(validator.ok()) << validator.error().ToString();
  EXPECT_TRUE((*validator)->compiled());
  return *validator;
}

// Tallies of the comparisons, so each test can say both kinds occurred.
struct Tally {
  int valid = 0;
  int invalid = 0;
  int fast = 0;  // Valid bodies the fast path answered alone.
};

// Compares the fast path with the full one on body (see the file comment).
void Compare(const PayloadValidator& validator, const std::string& body,
             Tally& tally) {
  const PayloadVerdict full = validator.ValidateFully(body);
  const PayloadVerdict got = validator.Validate(body);
  EXPECT_EQ(got.valid(), full.valid()) << "body: " << body;
  EXPECT_EQ(got.FirstIssue(), full.FirstIssue()) << "body: " << body;
  EXPECT_EQ(testing::DescribeVerdict(got), testing::DescribeVerdict(full))
      << "body: " << body;
  const std::optional<PayloadVerdict> fast = validator.FastVerdict(body);
  if (fast) {
    EXPECT_TRUE(fast->valid()) << "body: " << body;
    EXPECT_TRUE(full.valid()) << "fast path passed an invalid body: " << body
                              << "\n" << testing::DescribeVerdict(full);
    EXPECT_EQ(fast->event, full.event) << "body: " << body;
  }
  if (full.valid()) {
    ++tally.valid;
    if (fast) ++tally.fast;
  } else {
    ++tally.invalid;
  }
}

// A release body with source_env (a promotion), as in the spec.
Json Promotion() { return Json::parse(testing::kSpecExamplePayload); }

// The same without source_env (a deploy).
Json Deploy() {
  Json doc = Promotion();
  doc["data"]["release"].erase("source_env");
  return doc;
}

std::string With(Json doc, const std::string& pointer, Json value) {
  doc[Json::json_pointer(pointer)] = std::move(value);
  return doc.dump();
}

std::string Without(Json doc, const std::string& pointer) {
  const Json::json_pointer at(pointer);
  doc[at.parent_pointer()].erase(at.back());
  return doc.dump();
}

// Values of every JSON type, and the edges of the schemas' limits.
std::vector<Json> OddValues() {
  return {nullptr,
          true,
          false,
          0,
          1,
          -1,
          2,
          INT64_MAX,
          INT64_MIN,
          UINT64_MAX,
          1.0,
          1.5,
          -0.0,
          1e300,
          "",
          "x",
          "a-b",
          "a@b",
          "http://x",
          "https://your-app.divshot.io",
          "release",
          "caf\xc3\xa9",
          "tab\there",
          "new\nline",
          "quote\"and\\backslash",
          "slash/and\x7f",
          std::string(64, 'a'),
          std::string(65, 'a'),
          std::string(100, 'a'),
          std::string(101, 'a'),
          std::string(254, 'a'),
          std::string(255, 'a'),
          std::string(256, 'a'),
          std::string(257, 'a'),
          "http://" + std::string(2041, 'a'),
          "http://" + std::string(2042, 'a'),
          std::string(4096, 'a'),
          std::string(4097, 'a'),
          Json::array(),
          Json::array({1, "x"}),
          Json::object(),
          Json::object({{"k", 1}})};
}

TEST(PayloadCompiledPassTest, GeneratedEventsTakeTheFastPath) {
  const auto validator = Bundled();
  Tally tally;
  for (int apps : {1, 3, 1000}) {
    ReleaseEventOptions options;
    options.apps = apps;
    ReleaseEventGenerator generator(options, Random(100 + apps));
    for (int i = 0; i < 700; ++i) {
      const ReleaseEvent event = generator.Next();
      Compare(*validator, event.body, tally);
      // Pretty-printed and with keys sorted (nlohmann's order): the same.
      const Json doc = Json::parse(event.body);
      if (i % 7 == 0) Compare(*validator, doc.dump(2), tally);
      if (i % 11 == 0) Compare(*validator, doc.dump(), tally);
    }
  }
  EXPECT_EQ(tally.invalid, 0);  // The generator makes valid events only.
  // Every plain valid event is answered by the fast path alone.
  EXPECT_EQ(tally.fast, tally.valid);
}

TEST(PayloadCompiledPassTest, EveryFieldWithEveryValueAgrees) {
  const auto validator = Bundled();
  Tally tally;
  const std::vector<std::string> pointers = {
      "/event",
      "/data",
      "/data/app",
      "/data/release",
      "/data/app/name",
      "/data/app/id",
      "/data/release/env",
      "/data/release/version",
      "/data/release/author",
      "/data/release/rollback",
      "/data/release/source",
      "/data/release/source_env",
      "/data/release/timestamp",
      "/data/release/url",
      "/data/release/permanent_url",
      // Places no schema names: extra keys at every level.
      "/extra",
      "/data/extra",
      "/data/app/extra",
      "/data/release/extra",
  };
  for (const Json& base : {Promotion(), Deploy()}) {
    for (const std::string& pointer : pointers) {
      for (const Json& value : OddValues()) {
        Compare(*validator, With(base, pointer, value), tally);
      }
      if (pointer.find("extra") == std::string::npos) {
        Compare(*validator, Without(base, pointer), tally);
      }
    }
  }
  // Other events: only the envelope applies, so /data's insides do not
  // matter, whatever they hold.
  for (const Json& event : OddValues()) {
    Compare(*validator, Json{{"event", event}, {"data", Json::object()}}.dump(),
            tally);
  }
  for (const Json& value : OddValues()) {
    Json ping = Deploy();
    ping["event"] = "ping";
    ping["data"]["release"]["version"] = value;
    ping["data"]["app"] = value;
    ping["more"] = value;
    Compare(*validator, ping.dump(), tally);
    Compare(*validator, Json{{"event", "ping"}, {"data", value}}.dump(), tally);
  }
  EXPECT_GT(tally.valid, 100);
  EXPECT_GT(tally.invalid, 100);
  EXPECT_GT(tally.fast, 50);
}

TEST(PayloadCompiledPassTest, CrossFieldRulesAgree) {
  const auto validator = Bundled();
  Tally tally;
  const Json base = Deploy();
  const int64_t version = base["data"]["release"]["version"].get<int64_t>();
  const std::string name = base["data"]["app"]["name"].get<std::string>();
  for (const Json& rollback :
       {Json(false), Json(1), Json(version - 1), Json(version),
        Json(version + 1)}) {
    Compare(*validator, With(base, "/data/release/rollback", rollback), tally);
    Json promotion = Promotion();
    promotion["data"]["release"]["rollback"] = rollback;
    Compare(*validator, promotion.dump(), tally);
  }
  for (const std::string& url :
       {"http://v" + std::to_string(version) + "." + name + ".divshot.io",
        "https://v" + std::to_string(version) + "." + name + ":80/x",
        "http://v" + std::to_string(version) + "." + name,
        "http://v" + std::to_string(version) + name + ".divshot.io",
        "http://v" + std::to_string(version + 1) + "." + name + ".io",
        "http://v" + std::to_string(version) + ".other.divshot.io",
        "http://" + name + ".v" + std::to_string(version) + ".divshot.io",
        "http://v" + std::to_string(version) + ".x/" + name,
        "http://v" + std::to_string(version) + ".x?" + name,
        "http://v" + std::to_string(version) + ".x:" + name,
        "ftp://v" + std::to_string(version) + "." + name}) {
    Compare(*validator, With(base, "/data/release/permanent_url", url), tally);
    Compare(*validator, With(base, "/data/release/url", url), tally);
  }
  // A version at and below the schema's minimum, with a permanent_url that
  // names it (else that rule alone would fail the body).
  for (const int64_t v : {INT64_MIN, int64_t{-1}, int64_t{0}, int64_t{1},
                          int64_t{2}, INT64_MAX}) {
    Json doc = base;
    doc["data"]["release"]["version"] = v;
    doc["data"]["release"]["permanent_url"] =
        "http://v" + std::to_string(v) + "." + name + ".divshot.io";
    Compare(*validator, doc.dump(), tally);
    if (v == INT64_MIN) continue;
    doc["data"]["release"]["rollback"] = v - 1;
    Compare(*validator, doc.dump(), tally);
  }
  for (const char* env : {"production", "staging", "Production", "x"}) {
    Json promotion = Promotion();
    promotion["data"]["release"]["source_env"] = env;
    Compare(*validator, promotion.dump(), tally);
  }
  EXPECT_GT(tally.valid, 5);
  EXPECT_GT(tally.invalid, 5);
  EXPECT_EQ(tally.fast, tally.valid);
}

// Bodies written by hand: what a tree hides (duplicate keys, key order,
// number spellings, escapes, bytes after the value).
TEST(PayloadCompiledPassTest, RawTextCornersAgree) {
  const auto validator = Bundled();
  Tally tally;
  const std::string release = Deploy().dump();
  const std::string inner = release.substr(1, release.size() - 2);
  const std::vector<std::string> bodies = {
      release,
      // Key order: data before event, release before app.
      Json::parse(release).dump(),
      R"({"data":{},"event":"ping"})",
      R"({"data":{"release":1},"event":"release"})",
      // Duplicate keys at each level the schemas look at, and elsewhere.
      "{" + inner + ",\"event\":\"release\"}",
      "{" + inner + ",\"event\":\"ping\"}",
      "{" + inner + ",\"data\":{}}",
      R"({"event":"ping","data":{},"data":{}})",
      R"({"event":"ping","data":{},"event":"release"})",
      R"({"event":"ping","data":{},"data":1})",
      R"({"event":"ping","data":{},"event":""})",
      R"({"event":"ping","event":"ping","data":{}})",
      R"({"event":"ping","data":{"a":1,"a":2}})",
      R"({"event":"ping","data":{"app":1,"app":{}}})",
      [&] {
        std::string body = release;
        const size_t at = body.find("\"id\"");
        body.insert(at, "\"id\":\"first\",");
        return body;
      }(),
      [&] {
        std::string body = release;
        const size_t at = body.find("\"version\"");
        body.insert(at, "\"version\":1,");
        return body;
      }(),
      [&] {
        std::string body = release;
        const size_t at = body.find("\"app\"");
        body.insert(at, R"("app":{"name":"x","id":"y"},)");
        return body;
      }(),
      // Number spellings.
      R"({"event":"ping","data":{"n":-0}})",
      R"({"event":"ping","data":{"n":0.0}})",
      R"({"event":"ping","data":{"n":1e2}})",
      R"({"event":"ping","data":{"n":1E400}})",
      R"({"event":"ping","data":{"n":01}})",
      R"({"event":"ping","data":{"n":-}})",
      R"({"event":"ping","data":{"n":1.}})",
      R"({"event":"ping","data":{"n":9223372036854775807}})",
      R"({"event":"ping","data":{"n":9223372036854775808}})",
      R"({"event":"ping","data":{"n":-9223372036854775808}})",
      R"({"event":"ping","data":{"n":-9223372036854775809}})",
      R"({"event":"ping","data":{"n":18446744073709551616}})",
      // Escapes.
      R"({"event":"p\ting","data":{}})",
      R"({"event":"\"","data":{}})",
      R"({"event":"\/","data":{}})",
      R"({"event":"\\u0041","data":{}})",
      R"({"event":"\\\u0041","data":{}})",
      R"({"event":"\u0041","data":{}})",
      R"({"event":"\u0000","data":{}})",
      R"({"event":"\ud83d\ude00","data":{}})",
      R"({"event":"\ud83d","data":{}})",
      R"({"event":"\q","data":{}})",
      R"({"event":"ping","data":{"k\"ey":"v\\"}})",
      R"({"ev\u0065nt":"ping","data":{}})",
      R"({"event":"rel\u0065ase","data":{}})",
      // Bytes the readers could see differently.
      std::string(R"({"event":"ping","data":{}})") + '\0',
      std::string(R"({"event":"ping","data":{}})") + '\0' + "garbage",
      std::string(R"({"event":"pi)") + '\0' + R"(ng","data":{}})",
      "{\"event\":\"p\x01ng\",\"data\":{}}",
      "{\"event\":\"p\x7fng\",\"data\":{}}",
      "{\"event\":\"p\xc3\xa9ng\",\"data\":{}}",
      "{\"event\":\"p\xffng\",\"data\":{}}",
      "{\"event\":\"ping\",\"data\":{\"\xc3\xa9\":1}}",
      "{\"event\":\"ping\",\"data\":{\"\x7f\":1}}",
      "\xef\xbb\xbf{\"event\":\"ping\",\"data\":{}}",
      " \t\r\n{\"event\":\"ping\",\"data\":{}} \t\r\n",
      "{\"event\":\"ping\",\"data\":{}}\v",
      R"({"event":"ping","data":{}})"
      R"({"event":"ping","data":{}})",
      R"({"event":"ping","data":{},})",
      R"({"event":"ping","data":{}})",
      R"({"event":"ping","data":[]})",
      R"({"event":"ping","data":{"a":[{"b":[[]]}]}})",
      R"({"event":"ping","data":{"a":[1,]}})",
      R"({"event":"ping","data":{"a":NaN}})",
      R"({"event":"ping","data":{"a":tru}})",
      R"({"event":"ping","data":{/*c*/}})",
      R"({"event":"ping"})",
      R"({"data":{}})",
      R"({})",
      R"([{"event":"ping","data":{}}])",
      R"("event")",
      "1",
      "null",
      "",
      "{",
      "\\",
      "\"\\",
  };
  for (const std::string& body : bodies) Compare(*validator, body, tally);
  EXPECT_GT(tally.valid, 5);
  EXPECT_GT(tally.invalid, 20);
  EXPECT_GT(tally.fast, 5);
}

// Nesting at and over the limit (128 levels, the body's object counted),
// in objects and arrays, in /data and in a place no schema names.
TEST(PayloadCompiledPassTest, DeepNestingAgrees) {
  const auto validator = Bundled();
  Tally tally;
  for (int levels : {2, 3, 50, 125, 126, 127, 128, 129, 200, 5000}) {
    // {"event":"ping","data": <levels - 1 more levels>}
    std::string arrays(static_cast<size_t>(levels - 2), '[');
    arrays += std::string(static_cast<size_t>(levels - 2), ']');
    Compare(*validator,
            R"({"event":"ping","data":{"a":)" + arrays + "}}", tally);
    std::string objects;
    for (int i = 0; i < levels - 2; ++i) objects += R"({"k":)";
    objects += "1";
    objects += std::string(static_cast<size_t>(levels - 2), '}');
    Compare(*validator,
            R"({"event":"ping","data":{"a":)" + objects + "}}", tally);
    Compare(*validator, R"({"event":"ping","data":{},"x":)" + objects + "}",
            tally);
    // Spliced as text: nlohmann's own reader and writer recurse per level.
    std::string release = Deploy().dump();
    const std::string rollback = "\"rollback\":false";
    release.replace(release.find(rollback), rollback.size(),
                    "\"rollback\":" + objects);
    Compare(*validator, release, tally);
  }
  EXPECT_GT(tally.valid, 10);
  EXPECT_GT(tally.invalid, 10);
  EXPECT_GT(tally.fast, 10);
}

// Random edits of valid bodies, byte by byte: most are not JSON or fail a
// rule, some stay valid; all must be judged alike.
TEST(PayloadCompiledPassTest, RandomByteEditsAgree) {
  const auto validator = Bundled();
  Tally tally;
  ReleaseEventGenerator generator(ReleaseEventOptions{}, Random(21));
  Random rng(22);
  const std::string alphabet =
      "{}[]\",:0123456789-+.eEtrufalsn \t\n\\/@abzAZu_\x7f\xc3\xa9";
  for (int i = 0; i < 4000; ++i) {
    std::string body = generator.Next().body;
    if (i % 3 == 0) body = Json::parse(body).dump(1);
    testing::EditBytes(body, rng, alphabet, 4, testing::ByteEdits::kAlsoSwap);
    Compare(*validator, body, tally);
  }
  EXPECT_GT(tally.valid, 50);
  EXPECT_GT(tally.invalid, 1000);
  EXPECT_GT(tally.fast, 0);
}

// A body larger than the stack copy the pass parses in (4 KB) is read from
// a heap copy, with the same verdicts.
TEST(PayloadCompiledPassTest, LargeBodiesAgree) {
  const auto validator = Bundled();
  Tally tally;
  Json ping = {{"event", "ping"}, {"data", Json::object()}};
  for (int i = 0; i < 300; ++i) {
    ping["data"]["k" + std::to_string(i)] = std::string(40, 'v');
  }
  Compare(*validator, ping.dump(), tally);
  ping["data"]["k7"] = 1.5;  // Valid: the envelope does not look there.
  Compare(*validator, ping.dump(), tally);
  Json release = Deploy();
  release["data"]["release"]["source"] = std::string(5000, 's');
  Compare(*validator, release.dump(), tally);
  release["data"]["release"]["source"] = "cli";
  Compare(*validator, release.dump(4096 / 8), tally);  // Padded to > 4 KB.
  EXPECT_EQ(tally.valid, 3);
  EXPECT_EQ(tally.invalid, 1);  // The 5000-byte source.
  EXPECT_GE(tally.fast, 2);
}

}  // namespace
}  // namespace hooksim
