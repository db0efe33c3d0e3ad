#pragma once
// `djproxy health [--ready] [--admin HOST:PORT] [--timeout SECONDS]`: asks a running
// proxy's admin listener over HTTP and exits 0 when it answers 200, 1 otherwise
// (no answer, another status, settings that do not load). It is the image's
// HEALTHCHECK, so that the runtime image needs no shell or HTTP client.
// Default /healthz (liveness: the process serves); --ready asks /readyz, which
// also needs the backend reachable, for orchestrators that gate traffic on it.

#include <iosfwd>
#include <string>

#include <CLI/CLI.hpp>

#include "config/loader.hpp"

namespace djproxy::cli {

struct HealthRequest {
  bool ready = false;   // /readyz instead of /healthz
  std::string admin;    // HOST:PORT; empty: admin_listen from the settings
  double timeout = 3;   // seconds for connect, request and answer together
};

void add_health_command(CLI::App& app);

// The command with its streams injected, for tests; returns the exit code.
int run_health_command(const config::LoadOptions& options, const HealthRequest& request, std::ostream& out,
                       std::ostream& err);

}  // namespace djproxy::cli
