#pragma once
// What all sessions of the process share: the connection and policy snapshots and
// the counters.
#include <atomic>
#include <cstdint>

#include "proxy/admin/metrics.hpp"
#include "proxy/connection_settings.hpp"
#include "proxy/handshake_slots.hpp"
#include "proxy/policy_runtime.hpp"
#include "proxy/snapshot.hpp"

namespace djproxy::proxy {

struct SharedState {
  Snapshot<ConnectionSettings> connection{std::make_shared<ConnectionSettings>()};
  Snapshot<PolicyRuntime> policy{std::make_shared<PolicyRuntime>()};
  admin::Metrics metrics;
  std::atomic<std::size_t> open_connections{0};
  HandshakeSlots handshakes{metrics};  // after metrics, which it counts into
  std::atomic<std::uint64_t> next_session_id{1};
};

}  // namespace djproxy::proxy
