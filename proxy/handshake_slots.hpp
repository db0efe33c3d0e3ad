#pragma once
// Connections still in their handshake, across all workers. Pass-through authentication
// needs the server's greeting, so each of them holds a server connection (a server
// thread) until it authenticates or its handshake deadline passes: bounding them keeps
// clients that never answer the greeting from using up the server's connections.
//
// A Slot is taken at accept and travels with the connection; it is given back when the
// client authenticates or, on every other path (refusal, timeout, TLS failure, client
// gone, an exception), when the connection is dropped, since that destroys the Slot.
#include <atomic>
#include <cstddef>
#include <optional>
#include <utility>

#include "proxy/admin/metrics.hpp"

namespace djproxy::proxy {

class HandshakeSlots {
 public:
  class Slot {
   public:
    Slot() = default;
    Slot(Slot&& other) noexcept : owner_(std::exchange(other.owner_, nullptr)) {}
    Slot& operator=(Slot&& other) noexcept {
      if (this != &other) {
        release();
        owner_ = std::exchange(other.owner_, nullptr);
      }
      return *this;
    }
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;
    ~Slot() { release(); }

    // Idempotent: the handshake is over (authenticated, or the connection ends).
    void release() noexcept {
      if (owner_ == nullptr) return;
      owner_->count_.fetch_sub(1, std::memory_order_relaxed);
      owner_->metrics_.handshake_ended();
      owner_ = nullptr;
    }
    bool held() const noexcept { return owner_ != nullptr; }

   private:
    friend class HandshakeSlots;
    explicit Slot(HandshakeSlots* owner) noexcept : owner_(owner) {}
    HandshakeSlots* owner_ = nullptr;
  };

  explicit HandshakeSlots(admin::Metrics& metrics) : metrics_(metrics) {}
  HandshakeSlots(const HandshakeSlots&) = delete;
  HandshakeSlots& operator=(const HandshakeSlots&) = delete;

  // A slot, or none when `limit` handshakes are already in progress (counted as refused).
  std::optional<Slot> try_acquire(std::size_t limit) noexcept {
    if (count_.fetch_add(1, std::memory_order_relaxed) >= limit) {
      count_.fetch_sub(1, std::memory_order_relaxed);
      metrics_.handshake_refused();
      return std::nullopt;
    }
    metrics_.handshake_begun();
    return Slot(this);
  }

  std::size_t in_progress() const noexcept { return count_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::size_t> count_{0};
  admin::Metrics& metrics_;
};

}  // namespace djproxy::proxy
