#include "proxy/handshake_slots.hpp"

#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace djproxy::proxy {
namespace {

// The gauge and counter as a scrape shows them.
double scraped(const admin::Metrics& m, const std::string& name) {
  const std::string text = m.render_prometheus();
  const std::string prefix = "\n" + name + " ";
  const auto at = text.find(prefix);
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + prefix.size()));
}

TEST(HandshakeSlots, UpToTheLimitThenRefusedAndCounted) {
  admin::Metrics metrics;
  HandshakeSlots slots(metrics);
  std::vector<HandshakeSlots::Slot> held;
  for (int i = 0; i < 3; ++i) {
    auto slot = slots.try_acquire(3);
    ASSERT_TRUE(slot) << i;
    held.push_back(std::move(*slot));
  }
  EXPECT_FALSE(slots.try_acquire(3));
  EXPECT_FALSE(slots.try_acquire(3));
  EXPECT_EQ(slots.in_progress(), 3u);  // a refusal leaves nothing behind
  EXPECT_EQ(scraped(metrics, "djproxy_handshakes_in_progress"), 3);
  EXPECT_EQ(scraped(metrics, "djproxy_handshakes_refused_total"), 2);
  // A lower limit (a reload) refuses newcomers without touching those in progress.
  EXPECT_FALSE(slots.try_acquire(1));
  EXPECT_EQ(slots.in_progress(), 3u);
}

TEST(HandshakeSlots, GivenBackOnReleaseAndOnEveryDestruction) {
  admin::Metrics metrics;
  HandshakeSlots slots(metrics);
  {
    auto a = slots.try_acquire(2);
    auto b = slots.try_acquire(2);
    ASSERT_TRUE(a && b);
    a->release();  // authenticated
    a->release();  // idempotent: the session's end releases again
    EXPECT_FALSE(a->held());
    EXPECT_EQ(slots.in_progress(), 1u);
    // Moved along (to another worker's handler): still one slot.
    HandshakeSlots::Slot moved(std::move(*b));
    EXPECT_FALSE(b->held());
    EXPECT_TRUE(moved.held());
    EXPECT_EQ(slots.in_progress(), 1u);
    HandshakeSlots::Slot assigned;
    assigned = std::move(moved);
    EXPECT_EQ(slots.in_progress(), 1u);
    auto c = slots.try_acquire(2);
    ASSERT_TRUE(c);
    assigned = std::move(*c);  // assigning over a held slot gives that one back
    EXPECT_EQ(slots.in_progress(), 1u);
  }
  EXPECT_EQ(slots.in_progress(), 0u);  // dropped: timeout, client gone, exception
  EXPECT_EQ(scraped(metrics, "djproxy_handshakes_in_progress"), 0);
  EXPECT_TRUE(slots.try_acquire(1));
}

TEST(HandshakeSlots, NeverMoreThanTheLimitAcrossThreads) {
  admin::Metrics metrics;
  HandshakeSlots slots(metrics);
  constexpr std::size_t kLimit = 5;
  constexpr int kThreads = 8, kEach = 20000;
  // Slots held at once, counted by the holders: in_progress() also counts, for an
  // instant, an attempt about to be refused, so it may pass the limit while the slots
  // granted never do.
  std::atomic<std::size_t> held{0};
  std::atomic<std::size_t> most{0};
  std::atomic<std::uint64_t> refused{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kEach; ++i) {
        auto slot = slots.try_acquire(kLimit);
        if (!slot) {
          refused.fetch_add(1);
          continue;
        }
        const std::size_t now = held.fetch_add(1) + 1;
        std::size_t seen = most.load();
        while (now > seen && !most.compare_exchange_weak(seen, now)) {
        }
        held.fetch_sub(1);  // before the slot goes back at the end of this iteration
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_LE(most.load(), kLimit);
  EXPECT_EQ(slots.in_progress(), 0u);
  EXPECT_EQ(scraped(metrics, "djproxy_handshakes_in_progress"), 0);
  EXPECT_EQ(scraped(metrics, "djproxy_handshakes_refused_total"), static_cast<double>(refused.load()));
}

}  // namespace
}  // namespace djproxy::proxy
