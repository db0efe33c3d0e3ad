#pragma once
// What all sessions of the process share: the options, the TLS contexts, the gate
// and the counters. Read-only after start, except the atomics.
#include <atomic>
#include <cstdint>

#include "proxy/admin/metrics.hpp"
#include "proxy/command_gate.hpp"
#include "proxy/options.hpp"
#include "proxy/policy_runtime.hpp"
#include "proxy/rsa_exchange.hpp"
#include "proxy/tls.hpp"

namespace djproxy::proxy {

struct SharedState {
  ServerOptions options;
  TlsContexts tls;
  CommandGate gate;
  PolicyHolder policy{std::make_shared<PolicyRuntime>()};
  // For caching_sha2_password with a plaintext client leg and a TLS backend leg.
  std::unique_ptr<RsaExchange> rsa;
  admin::Metrics metrics;
  std::atomic<std::size_t> open_connections{0};
  std::atomic<std::uint64_t> next_session_id{1};
};

}  // namespace djproxy::proxy
