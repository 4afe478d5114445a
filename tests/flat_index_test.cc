#include "sim/base/flat_index.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace hooksim {
namespace {

TEST(FlatIndexTest, NumbersKeysInInsertionOrder) {
  FlatIndex index;
  EXPECT_TRUE(index.empty());
  EXPECT_FALSE(index.Find("a").has_value());
  for (uint32_t i = 0; i < 3; ++i) {
    const std::string key = "k" + std::to_string(i);
    std::optional<FlatIndex::Slot> slot =
        index.FindOrInsert(key, FlatIndex::HashKey(key));
    ASSERT_TRUE(slot.has_value());
    EXPECT_EQ(slot->index, i);
    EXPECT_TRUE(slot->added);
  }
  std::optional<FlatIndex::Slot> again =
      index.FindOrInsert("k1", FlatIndex::HashKey("k1"));
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->index, 1u);
  EXPECT_FALSE(again->added);
  EXPECT_EQ(index.size(), 3u);
  EXPECT_EQ(index.Find("k2"), 2u);
  EXPECT_EQ(index.key(0), "k0");
  EXPECT_EQ(index.key(2), "k2");
  EXPECT_FALSE(index.Find("k3").has_value());
}

uint64_t SameHash(std::string_view) { return 0xabcdef0123456789ULL; }

TEST(FlatIndexTest, EqualHashesNeverMergeKeys) {
  // Every key under the same hash, through growth: the stored key decides,
  // for text keys and delivery ids alike.
  FlatIndex index(FlatIndex::kMaxKeys, &SameHash);
  constexpr uint64_t kHash = 0xabcdef0123456789ULL;
  for (int i = 0; i < 40; ++i) {
    const std::string key = "same-hash-" + std::to_string(i);
    ASSERT_TRUE(index.FindOrInsert(key, kHash).has_value());
    const std::string id(DeliveryIdText(uint64_t(i) * 977).view());
    ASSERT_TRUE(index.FindOrInsert(id, kHash).has_value());
  }
  EXPECT_EQ(index.size(), 80u);
  for (int i = 0; i < 40; ++i) {
    EXPECT_EQ(index.Find("same-hash-" + std::to_string(i), kHash),
              static_cast<uint32_t>(2 * i));
    EXPECT_EQ(index.Find(DeliveryIdText(uint64_t(i) * 977).view(), kHash),
              static_cast<uint32_t>(2 * i + 1));
    EXPECT_EQ(index.Find(DeliveryIdText(uint64_t(i) * 977).view()),
              static_cast<uint32_t>(2 * i + 1))
        << "the one-argument Find uses the index's hasher";
  }
  EXPECT_FALSE(index.Find("same-hash-40", kHash).has_value());
  EXPECT_FALSE(index.Find(DeliveryIdText(40 * 977).view(), kHash).has_value());
}

TEST(FlatIndexTest, DeliveryIdsAndOtherKeysMixAndReadBackAsText) {
  // Delivery ids are kept as numbers; near misses (upper case, a digit
  // short or long, another prefix) are kept as text. Each reads back as
  // the text it was given, and none matches another.
  const std::vector<std::string> keys = {
      "dlv_00000000000000ff", "dlv_00000000000000FF", "dlv_00000000000000f",
      "dlv_00000000000000ff0", "dlx_00000000000000ff", "body:00000000000000ff",
      "dlv_ffffffffffffffff", "dlv_0000000000000000", "", "dlv_"};
  FlatIndex index;
  for (const std::string& key : keys) {
    std::optional<FlatIndex::Slot> slot =
        index.FindOrInsert(key, FlatIndex::HashKey(key));
    ASSERT_TRUE(slot.has_value());
    ASSERT_TRUE(slot->added) << key;
  }
  ASSERT_EQ(index.size(), keys.size());
  for (uint32_t i = 0; i < keys.size(); ++i) {
    EXPECT_EQ(index.Find(keys[i]), i) << keys[i];
    const FlatKey key = index.key(i);
    EXPECT_EQ(key.str(), keys[i]);
    EXPECT_EQ(key, keys[i]);
  }
  uint64_t number = 0;
  EXPECT_TRUE(ParseDeliveryId("dlv_00000000000000ff", &number));
  EXPECT_EQ(number, 0xffu);
  EXPECT_FALSE(ParseDeliveryId("dlv_00000000000000FF", &number));
  EXPECT_EQ(DeliveryIdText(0xffu).view(), "dlv_00000000000000ff");
}

// A probe (the key's hash and number, computed once) finds what a lookup by
// text finds, through growth, for delivery ids and other keys; its hash is
// HashKey's; under another hasher it carries that hasher's hash.
TEST(FlatIndexTest, PreparedProbesAgreeWithLookupsByText) {
  FlatTable<int> table;
  std::vector<std::string> keys;
  for (int i = 0; i < 300; ++i) {
    char id[kDeliveryIdSize];
    FormatDeliveryId(0x9e3779b97f4a7c15ULL * (i + 1), id);
    keys.emplace_back(id, kDeliveryIdSize);
    keys.push_back("key" + std::to_string(i));
  }
  for (size_t i = 0; i < keys.size(); ++i) {
    const FlatIndex::Probe probe = table.Prepare(keys[i]);
    EXPECT_EQ(probe.hash, FlatIndex::HashKey(keys[i]));
    EXPECT_EQ(probe.packed, i % 2 == 0) << keys[i];
    bool added = false;
    int* v = i % 3 ? table.FindOrInsert(probe, &added)
                   : table.FindOrInsert(keys[i], FlatIndex::HashKey(keys[i]),
                                        &added);
    ASSERT_NE(v, nullptr);
    EXPECT_TRUE(added);
    *v = static_cast<int>(i);
  }
  for (size_t i = 0; i < keys.size(); ++i) {
    EXPECT_EQ(table.IndexOf(table.Prepare(keys[i])), i);
    EXPECT_EQ(table.IndexOf(keys[i]), i);
    bool added = true;
    EXPECT_EQ(*table.FindOrInsert(table.Prepare(keys[i]), &added),
              static_cast<int>(i));
    EXPECT_FALSE(added);
  }
  EXPECT_FALSE(table.IndexOf(table.Prepare("dlv_0000000000000000")));
  FlatTable<int> same(FlatIndex::kMaxKeys, &SameHash);
  EXPECT_EQ(same.Prepare(keys[0]).hash, SameHash(keys[0]));
}

TEST(FlatIndexTest, GrowsAndFindsEveryKey) {
  FlatIndex index;
  constexpr int kKeys = 50'000;
  for (int i = 0; i < kKeys; ++i) {
    const std::string key = "dlv_" + std::to_string(i * 7919);
    ASSERT_TRUE(index.FindOrInsert(key, FlatIndex::HashKey(key)).has_value());
  }
  ASSERT_EQ(index.size(), static_cast<size_t>(kKeys));
  for (int i = 0; i < kKeys; ++i) {
    const std::string key = "dlv_" + std::to_string(i * 7919);
    ASSERT_EQ(index.Find(key), static_cast<uint32_t>(i)) << key;
    ASSERT_EQ(index.key(i), key);
  }
  EXPECT_FALSE(index.Find("dlv_1").has_value());
}

TEST(FlatIndexTest, MaxKeysRefusesNewKeysOnly) {
  FlatIndex index(2);
  EXPECT_EQ(index.max_keys(), 2u);
  ASSERT_TRUE(index.FindOrInsert("a", FlatIndex::HashKey("a")).has_value());
  ASSERT_TRUE(index.FindOrInsert("b", FlatIndex::HashKey("b")).has_value());
  EXPECT_FALSE(index.FindOrInsert("c", FlatIndex::HashKey("c")).has_value());
  // Known keys are still found when full.
  std::optional<FlatIndex::Slot> a =
      index.FindOrInsert("a", FlatIndex::HashKey("a"));
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->index, 0u);
  EXPECT_EQ(index.size(), 2u);
  EXPECT_FALSE(index.Find("c").has_value());

  FlatIndex none(0);
  EXPECT_FALSE(none.FindOrInsert("a", FlatIndex::HashKey("a")).has_value());
  EXPECT_TRUE(none.empty());
}

TEST(FlatIndexTest, ReserveIsCappedAndChangesNothingVisible) {
  FlatIndex index(8);
  index.Reserve(1'000'000, 20);  // Capped at max_keys: no huge allocation.
  EXPECT_TRUE(index.empty());
  for (int i = 0; i < 10; ++i) {
    const std::string key = std::to_string(i);
    index.FindOrInsert(key, FlatIndex::HashKey(key));
  }
  EXPECT_EQ(index.size(), 8u);
  EXPECT_EQ(index.Find("7"), 7u);
  EXPECT_FALSE(index.Find("8").has_value());
}

TEST(FlatIndexTest, EmptyKeyAndClear) {
  FlatIndex index;
  ASSERT_TRUE(index.FindOrInsert("", FlatIndex::HashKey("")).has_value());
  ASSERT_TRUE(index.FindOrInsert("x", FlatIndex::HashKey("x")).has_value());
  EXPECT_EQ(index.Find(""), 0u);
  EXPECT_EQ(index.key(0), "");
  index.Clear();
  EXPECT_TRUE(index.empty());
  EXPECT_FALSE(index.Find("").has_value());
  EXPECT_FALSE(index.Find("x").has_value());
  std::optional<FlatIndex::Slot> x =
      index.FindOrInsert("x", FlatIndex::HashKey("x"));
  ASSERT_TRUE(x.has_value());
  EXPECT_EQ(x->index, 0u);
  EXPECT_TRUE(x->added);
}

TEST(FlatTableTest, MapLikeReadsAndInsertionOrderIteration) {
  FlatTable<int> table(3);
  for (const char* key : {"zeta", "alpha", "mid"}) {
    bool added = false;
    int* v = table.FindOrInsert(key, FlatIndex::HashKey(key), &added);
    ASSERT_NE(v, nullptr);
    EXPECT_TRUE(added);
    EXPECT_EQ(*v, 0);  // Value-initialised.
    *v = static_cast<int>(std::string_view(key).size());
  }
  bool added = true;
  int* zeta = table.FindOrInsert("zeta", FlatIndex::HashKey("zeta"), &added);
  ASSERT_NE(zeta, nullptr);
  EXPECT_FALSE(added);
  ++*zeta;
  EXPECT_EQ(table.FindOrInsert("more", FlatIndex::HashKey("more")), nullptr);

  EXPECT_EQ(table.size(), 3u);
  EXPECT_TRUE(table.contains("alpha"));
  EXPECT_FALSE(table.contains("more"));
  EXPECT_EQ(table.find("more"), nullptr);
  EXPECT_EQ(table.at("zeta"), 5);
  EXPECT_THROW(table.at("more"), std::out_of_range);
  EXPECT_EQ(table.begin()->first, "zeta");
  EXPECT_EQ(table.begin()->second, 5);

  std::vector<std::string> keys;
  for (const auto& [key, value] : table) keys.emplace_back(key);
  EXPECT_EQ(keys, (std::vector<std::string>{"zeta", "alpha", "mid"}));

  table.Clear();
  EXPECT_TRUE(table.empty());
  EXPECT_EQ(table.begin(), table.end());
}

}  // namespace
}  // namespace hooksim
