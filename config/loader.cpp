#include "config/loader.hpp"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <utility>

#include "config/file_sources.hpp"

extern char** environ;

namespace djproxy::config {
namespace fs = std::filesystem;
namespace {

// Precedence inside the loader, highest first. The two secrets ranks share one
// Layer: a `*_FILE` variable names its file explicitly, so it beats the directory.
enum Rank : std::size_t { env_rank, env_file_rank, secrets_dir_rank, toml_rank, json_rank, default_rank, rank_count };

struct Candidate {
  RawValue raw;
  Origin origin;
  Parsed parsed;
};

using Candidates = std::array<std::vector<Candidate>, rank_count>;

std::string_view trim_right(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  return trim_right(s);
}

const std::string* env_value(const EnvMap& env, std::string_view name) {
  if (name.empty()) return nullptr;
  auto it = env.find(name);
  // DataJoint treats an empty variable as unset; so do we.
  return it == env.end() || it->second.empty() ? nullptr : &it->second;
}

fs::path absolute_from(const fs::path& base, const fs::path& p) {
  return (p.is_absolute() ? p : base / p).lexically_normal();
}

bool exists_dir(const fs::path& p) {
  std::error_code ec;
  return fs::is_directory(p, ec);
}

bool exists_any(const fs::path& p) {
  std::error_code ec;
  return fs::exists(p, ec);
}

std::string problem(std::string_view key, const Origin& origin, std::string_view message) {
  return std::string(key) + " (" + origin.text + "): " + std::string(message);
}

bool same_endpoint(const Endpoint& a, const Endpoint& b) {
  if (a.port != b.port) return false;
  auto lower = [](std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
  };
  auto ha = lower(a.host);
  auto hb = lower(b.host);
  if (ha == hb) return true;
  // Without resolving names, these are the spellings that certainly reach the same socket.
  bool local_a = is_loopback_host(ha) || is_wildcard_host(ha);
  bool local_b = is_loopback_host(hb) || is_wildcard_host(hb);
  return local_a && local_b;
}

class Loader {
 public:
  explicit Loader(const LoadOptions& options) : options_(options) {
    working_dir_ = options.working_dir.empty() ? fs::current_path() : fs::absolute(options.working_dir);
  }

  LoadResult run() {
    locate_files();
    collect_env();
    collect_env_files();
    collect_secrets_dir();
    collect_file(sources_.toml, toml_name_, toml_rank);
    collect_file(sources_.datajoint_json, json_name_, json_rank);
    collect_defaults();
    resolve();
    derive_addresses();
    cross_check();
    warn_about_disagreements();
    warn_about_unknown_variables();

    LoadResult result;
    result.errors = std::move(errors_);
    result.warnings = warnings_;
    if (result.errors.empty()) {
      result.settings = std::make_shared<const Settings>(std::move(entries_), sources_, std::move(warnings_));
    }
    return result;
  }

 private:
  const LoadOptions& options_;
  fs::path working_dir_;
  Sources sources_;
  std::string toml_name_;
  std::string json_name_;
  bool local_secrets_ = false;
  Origin toml_origin_;
  Origin json_origin_;
  std::array<Candidates, kDescriptors.size()> candidates_;
  std::vector<Entry> entries_ = std::vector<Entry>(kDescriptors.size());
  std::vector<std::string> errors_;
  std::vector<std::string> warnings_;

  void add(std::size_t index, Rank rank, RawValue raw, Origin origin) {
    auto parsed = parse_value(kDescriptors[index], raw);
    candidates_[index][rank].push_back({std::move(raw), std::move(origin), std::move(parsed)});
  }

  void locate_files() {
    constexpr auto toml_index = index_of("config");
    constexpr auto json_index = index_of("datajoint_json");

    if (options_.config_path) {
      toml_origin_ = {Layer::env, "option --config"};
      sources_.toml = absolute_from(working_dir_, *options_.config_path);
    } else if (const auto* p = env_value(options_.env, kDescriptors[toml_index].env)) {
      toml_origin_ = {Layer::env, "env " + std::string(kDescriptors[toml_index].env)};
      sources_.toml = absolute_from(working_dir_, *p);
    } else if (exists_any(working_dir_ / "djproxy.toml")) {
      toml_origin_ = {Layer::default_value, "working directory"};
      sources_.toml = working_dir_ / "djproxy.toml";
    }
    if (!sources_.toml.empty()) {
      if (toml_origin_.layer == Layer::env && !exists_any(sources_.toml)) {
        errors_.push_back(problem("config", toml_origin_, sources_.toml.string() + " does not exist"));
        sources_.toml.clear();
      } else {
        toml_name_ = sources_.toml.filename().string();
        entries_[toml_index] = {sources_.toml.string(), toml_origin_};
      }
    }

    if (const auto* p = env_value(options_.env, kDescriptors[json_index].env)) {
      json_origin_ = {Layer::env, "env " + std::string(kDescriptors[json_index].env)};
      sources_.datajoint_json = absolute_from(working_dir_, *p);
      if (!exists_any(sources_.datajoint_json)) {
        errors_.push_back(problem("datajoint_json", json_origin_, sources_.datajoint_json.string() + " does not exist"));
        sources_.datajoint_json.clear();
      }
    } else {
      json_origin_ = {Layer::default_value, "search from " + working_dir_.string()};
      sources_.datajoint_json = find_datajoint_json(working_dir_);
    }
    if (!sources_.datajoint_json.empty()) {
      json_name_ = sources_.datajoint_json.filename().string();
      entries_[json_index] = {sources_.datajoint_json.string(), json_origin_};
    }

    auto local = (sources_.datajoint_json.empty() ? working_dir_ : sources_.datajoint_json.parent_path()) / ".secrets";
    if (exists_dir(local)) {
      sources_.secrets_dir = local;
      local_secrets_ = true;
    } else if (!options_.system_secrets_dir.empty() && exists_dir(options_.system_secrets_dir)) {
      sources_.secrets_dir = options_.system_secrets_dir;
    }
  }

  void collect_env() {
    for (std::size_t i = 0; i < kDescriptors.size(); ++i) {
      const auto& d = kDescriptors[i];
      if (d.scope == Scope::locator) continue;
      for (auto name : {d.env, d.alias_env}) {
        if (const auto* v = env_value(options_.env, name)) add(i, env_rank, *v, {Layer::env, "env " + std::string(name)});
      }
    }
  }

  // Docker and Kubernetes mount secrets as files; NAME_FILE names the file holding NAME.
  void collect_env_files() {
    for (std::size_t i = 0; i < kDescriptors.size(); ++i) {
      const auto& d = kDescriptors[i];
      if (d.scope == Scope::locator) continue;
      for (auto name : {d.env, d.alias_env}) {
        if (name.empty()) continue;
        auto file_var = std::string(name) + "_FILE";
        const auto* p = env_value(options_.env, file_var);
        if (p == nullptr) continue;
        Origin origin{Layer::secrets, "file $" + file_var};
        std::string error;
        auto path = absolute_from(working_dir_, *p);
        auto text = read_text_file(path, error);
        if (!text) {
          errors_.push_back(problem(d.key, origin, path.string() + " " + error));
          continue;
        }
        // Secret files usually end in a newline that is not part of the value.
        add(i, env_file_rank, std::string(trim_right(*text)), std::move(origin));
      }
    }
  }

  void collect_secrets_dir() {
    if (sources_.secrets_dir.empty()) return;
    for (std::size_t i = 0; i < kDescriptors.size(); ++i) {
      const auto& d = kDescriptors[i];
      if (d.secrets_file.empty()) continue;
      // The alias key names a file too, as DataJoint 2.x would write it.
      std::array<std::string_view, 2> names{d.secrets_file, d.alias_key};
      for (auto name : names) {
        if (name.empty()) continue;
        auto path = sources_.secrets_dir / std::string(name);
        if (!exists_any(path)) continue;
        Origin origin{Layer::secrets, local_secrets_ ? ".secrets/" + std::string(name) : path.string()};
        std::string error;
        auto text = read_text_file(path, error);
        if (!text) {
          errors_.push_back(problem(d.key, origin, path.string() + " " + error));
          continue;
        }
        // DataJoint strips surrounding whitespace from these files; the same file must mean the same.
        add(i, secrets_dir_rank, std::string(trim(*text)), std::move(origin));
      }
    }
  }

  void collect_file(const fs::path& file, const std::string& name, Rank rank) {
    if (file.empty()) return;
    auto read = rank == toml_rank ? read_toml(file, name) : read_datajoint_json(file, name);
    for (auto& e : read.errors) errors_.push_back(std::move(e));
    Layer layer = rank == toml_rank ? Layer::toml : Layer::datajoint_json;
    for (auto& entry : read.entries) {
      auto index = find_index(entry.key);
      if (!index) continue;  // readers only hand over known keys
      add(*index, rank, std::move(entry.value), {layer, name + ":" + std::to_string(entry.line)});
    }
  }

  void collect_defaults() {
    for (std::size_t i = 0; i < kDescriptors.size(); ++i) {
      const auto& d = kDescriptors[i];
      if (!d.default_text.empty()) add(i, default_rank, std::string(d.default_text), {Layer::default_value, "default"});
    }
  }

  void resolve() {
    for (std::size_t i = 0; i < kDescriptors.size(); ++i) {
      const auto& d = kDescriptors[i];
      bool resolved = false;
      for (auto& rank : candidates_[i]) {
        // Overridden values are still checked: a bad one would surface the day the override goes.
        for (const auto& c : rank) {
          if (!c.parsed.ok()) errors_.push_back(problem(d.key, c.origin, c.parsed.error));
        }
        if (rank.empty() || resolved) continue;
        resolved = true;
        // Two names for one setting in one layer must agree, or nobody can tell which was meant.
        for (std::size_t j = 1; j < rank.size(); ++j) {
          if (rank[0].parsed.ok() && rank[j].parsed.ok() && rank[0].parsed.value != rank[j].parsed.value) {
            auto values = d.secret ? std::string(" differ")
                                   : " say '" + format_value(d, rank[0].parsed.value) + "' and '" +
                                         format_value(d, rank[j].parsed.value) + "'";
            errors_.push_back(std::string(d.key) + ": " + rank[0].origin.text + " and " + rank[j].origin.text + values +
                              "; set one of them");
          }
        }
        if (rank[0].parsed.ok()) entries_[i] = {rank[0].parsed.value, rank[0].origin};
      }
    }
  }

  Entry& entry(std::size_t index) { return entries_[index]; }

  // database.host and backend.host may carry a port, which wins over the port setting
  // (DataJoint splits DJ_HOST the same way); an unset backend falls back to database.*.
  void derive_addresses() {
    constexpr auto db_host = index_of("database.host");
    constexpr auto db_port = index_of("database.port");
    constexpr auto be_host = index_of("backend.host");
    constexpr auto be_port = index_of("backend.port");

    auto split = [this](std::size_t host_index, std::size_t port_index) {
      auto* host = std::get_if<Endpoint>(&entry(host_index).value);
      if (host == nullptr || host->port == 0) return;
      entry(port_index) = {static_cast<std::int64_t>(host->port), entry(host_index).origin};
      host->port = 0;
    };
    split(db_host, db_port);

    if (entry(be_host).is_set()) {
      split(be_host, be_port);
      if (!entry(be_port).is_set()) entry(be_port) = {std::int64_t{3306}, {Layer::default_value, "default"}};
    } else if (entry(db_host).is_set()) {
      entry(be_host) = {entry(db_host).value, {Layer::derived, "from database.host, " + entry(db_host).origin.text}};
      if (!entry(be_port).is_set() && entry(db_port).is_set()) {
        entry(be_port) = {entry(db_port).value, {Layer::derived, "from database.port, " + entry(db_port).origin.text}};
      }
    }
  }

  void cross_check() {
    constexpr auto listen = index_of("listen");
    constexpr auto admin = index_of("admin_listen");
    constexpr auto be_host = index_of("backend.host");
    constexpr auto be_port = index_of("backend.port");

    const auto* l = std::get_if<Endpoint>(&entry(listen).value);
    const auto* a = std::get_if<Endpoint>(&entry(admin).value);
    const auto* b = std::get_if<Endpoint>(&entry(be_host).value);
    const auto* bp = std::get_if<std::int64_t>(&entry(be_port).value);
    if (l != nullptr && b != nullptr && bp != nullptr) {
      Endpoint backend{b->host, static_cast<std::uint16_t>(*bp)};
      if (same_endpoint(backend, *l)) {
        errors_.push_back(problem("backend.host", entry(be_host).origin,
                                  "the backend " + backend.to_string() + " is the proxy's own listen address (listen = " +
                                      l->to_string() + ", " + entry(listen).origin.text +
                                      "); name the real server in backend.host / DJPROXY_BACKEND"));
      }
    }
    if (l != nullptr && a != nullptr && same_endpoint(*l, *a)) {
      errors_.push_back(problem("admin_listen", entry(admin).origin,
                                a->to_string() + " is also the listen address (" + entry(listen).origin.text + ")"));
    }
    pair_check("client_tls.cert", index_of("client_tls.cert"), "client_tls.key", index_of("client_tls.key"));
    pair_check("backend_tls.cert", index_of("backend_tls.cert"), "backend_tls.key", index_of("backend_tls.key"));
  }

  void pair_check(std::string_view cert_key, std::size_t cert, std::string_view key_key, std::size_t key) {
    if (entry(cert).is_set() == entry(key).is_set()) return;
    auto given = entry(cert).is_set() ? cert : key;
    auto missing = entry(cert).is_set() ? key_key : cert_key;
    errors_.push_back(problem(kDescriptors[given].key, entry(given).origin,
                              "set without " + std::string(missing) + "; give both or neither"));
  }

  // The deployment guide and DataJoint 2.3 disagree on whether .secrets/ or
  // datajoint.json wins; when both hold a value and they differ, say so.
  void warn_about_disagreements() {
    for (std::size_t i = 0; i < kDescriptors.size(); ++i) {
      const auto& d = kDescriptors[i];
      const auto& secrets = candidates_[i][secrets_dir_rank];
      const auto& json = candidates_[i][json_rank];
      if (secrets.empty() || json.empty()) continue;
      const auto& s = secrets.front();
      const auto& j = json.front();
      if (!s.parsed.ok() || !j.parsed.ok() || s.parsed.value == j.parsed.value) continue;
      warnings_.push_back(std::string(d.key) + ": " + s.origin.text + " and " + j.origin.text +
                          " disagree; djproxy uses " + s.origin.text +
                          " (the deployment guide's order), DataJoint 2.3 would use " + j.origin.text);
    }
  }

  void warn_about_unknown_variables() {
    for (const auto& [name, value] : options_.env) {
      if (!name.starts_with("DJPROXY_") || value.empty()) continue;
      std::string_view base = name;
      if (base.ends_with("_FILE")) base.remove_suffix(5);
      bool known = std::any_of(kDescriptors.begin(), kDescriptors.end(), [&](const Descriptor& d) {
        return d.env == name || d.env == base || (!d.alias_env.empty() && (d.alias_env == name || d.alias_env == base));
      });
      if (!known) warnings_.push_back("env " + name + ": not a djproxy setting; ignored");
    }
  }
};

}  // namespace

fs::path find_datajoint_json(const fs::path& start) {
  for (auto dir = start;; dir = dir.parent_path()) {
    if (exists_any(dir / "datajoint.json")) return dir / "datajoint.json";
    // A repository's root ends the search, so a file outside the project is never picked up.
    if (exists_any(dir / ".git") || exists_any(dir / ".hg")) return {};
    if (dir == dir.root_path() || dir.parent_path() == dir) return {};
  }
}

LoadOptions LoadOptions::from_process() {
  LoadOptions options;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry = *e;
    auto eq = entry.find('=');
    if (eq == std::string_view::npos) continue;
    options.env.emplace(std::string(entry.substr(0, eq)), std::string(entry.substr(eq + 1)));
  }
  std::error_code ec;
  options.working_dir = fs::current_path(ec);
  return options;
}

LoadResult load(const LoadOptions& options) { return Loader(options).run(); }

}  // namespace djproxy::config
