#include "config/file_sources.hpp"

#include <algorithm>
#include <fstream>
#include <istream>
#include <map>
#include <sstream>
#include <streambuf>

#include <nlohmann/json.hpp>
#include <toml++/toml.h>

namespace djproxy::config {
namespace {

using nlohmann::json;

// Keys the files may carry: every descriptor except the locators, which say where
// the files are and so cannot come from them.
bool is_file_key(std::string_view path) {
  const auto* d = find_descriptor(path);
  return d != nullptr && d->scope != Scope::locator;
}

bool is_prefix_of_file_key(std::string_view prefix) {
  for (const auto& d : kDescriptors) {
    if (d.scope == Scope::locator) continue;
    for (auto key : {d.key, d.alias_key}) {
      if (key.size() > prefix.size() && key.starts_with(prefix) && key[prefix.size()] == '.') return true;
    }
  }
  return false;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string suggestion_for(std::string_view path) {
  std::string_view best;
  std::size_t best_distance = 3;  // further than this is a guess, not a typo
  for (const auto& d : kDescriptors) {
    if (d.scope == Scope::locator) continue;
    auto distance = edit_distance(path, d.key);
    if (distance < best_distance) {
      best_distance = distance;
      best = d.key;
    }
  }
  return best.empty() ? std::string{} : " (did you mean '" + std::string(best) + "'?)";
}

// ---- datajoint.json ---------------------------------------------------------------

// nlohmann's parser keeps no positions; it does pull every character through the
// stream buffer one at a time, so counting newlines here tells where a key ended.
class LineCountingBuffer : public std::streambuf {
 public:
  explicit LineCountingBuffer(std::string_view text) : text_(text) {}
  int line() const { return line_; }

 protected:
  int_type underflow() override {
    return pos_ < text_.size() ? traits_type::to_int_type(text_[pos_]) : traits_type::eof();
  }
  int_type uflow() override {
    if (pos_ >= text_.size()) return traits_type::eof();
    char c = text_[pos_++];
    if (c == '\n') ++line_;
    return traits_type::to_int_type(c);
  }

 private:
  std::string_view text_;
  std::size_t pos_ = 0;
  int line_ = 1;
};

// Records the line of every key reachable through objects alone, by dotted path.
class KeyLineRecorder : public nlohmann::json_sax<json> {
 public:
  explicit KeyLineRecorder(const LineCountingBuffer& buffer) : buffer_(buffer) {}
  std::map<std::string, int, std::less<>> lines;

  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override {
    frames_.push_back(arrays_ == 0 && !frames_.empty() ? last_key_ + "." : std::string{});
    return true;
  }
  bool key(string_t& k) override {
    last_key_ = frames_.back() + k;
    if (arrays_ == 0) lines[last_key_] = buffer_.line();
    return true;
  }
  bool end_object() override {
    frames_.pop_back();
    return true;
  }
  bool start_array(std::size_t) override {
    ++arrays_;
    return true;
  }
  bool end_array() override {
    --arrays_;
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override { return false; }

 private:
  const LineCountingBuffer& buffer_;
  std::vector<std::string> frames_;
  std::string last_key_;
  int arrays_ = 0;
};

std::optional<std::string> json_scalar_text(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_number()) return v.dump();
  return std::nullopt;
}

void flatten_json(const json& object, const std::string& prefix, const std::map<std::string, int, std::less<>>& lines,
                  const std::string& name, FileRead& out) {
  for (const auto& [k, v] : object.items()) {
    std::string path = prefix + k;
    auto line_it = lines.find(path);
    int line = line_it == lines.end() ? 0 : line_it->second;
    auto where = name + ":" + std::to_string(line) + ": ";
    if (!is_file_key(path)) {
      if (v.is_object()) flatten_json(v, path + ".", lines, name, out);
      continue;  // DataJoint's business
    }
    if (v.is_null()) continue;
    if (auto text = json_scalar_text(v)) {
      out.entries.push_back({path, *text, line});
    } else if (v.is_array()) {
      std::vector<std::string> items;
      bool good = true;
      for (const auto& item : v) {
        auto t = json_scalar_text(item);
        if (!t) good = false;
        else items.push_back(*t);
      }
      if (good) out.entries.push_back({path, std::move(items), line});
      else out.errors.push_back(where + path + ": a list may hold only strings, numbers and booleans");
    } else {
      out.errors.push_back(where + path + ": expected a value, found an object");
    }
  }
}

// ---- djproxy.toml ------------------------------------------------------------------

std::optional<std::string> toml_scalar_text(const toml::node& node) {
  if (const auto* s = node.as_string()) return s->get();
  if (const auto* i = node.as_integer()) return std::to_string(i->get());
  if (const auto* b = node.as_boolean()) return b->get() ? "true" : "false";
  return std::nullopt;
}

std::string toml_type_name(const toml::node& node) {
  std::ostringstream os;
  os << node.type();
  return os.str();
}

void walk_toml(const toml::table& table, const std::string& prefix, const std::string& name, FileRead& out) {
  for (const auto& [k, node] : table) {
    std::string path = prefix + std::string(k.str());
    int line = static_cast<int>(k.source().begin.line);
    if (line == 0) line = static_cast<int>(node.source().begin.line);
    auto where = name + ":" + std::to_string(line) + ": ";
    if (is_file_key(path)) {
      if (auto text = toml_scalar_text(node)) {
        out.entries.push_back({path, *text, line});
      } else if (const auto* array = node.as_array()) {
        std::vector<std::string> items;
        bool good = true;
        for (const auto& item : *array) {
          auto t = toml_scalar_text(item);
          if (!t) good = false;
          else items.push_back(*t);
        }
        if (good) out.entries.push_back({path, std::move(items), line});
        else out.errors.push_back(where + path + ": a list may hold only strings, integers and booleans");
      } else {
        out.errors.push_back(where + path + ": expected a value, found a " + toml_type_name(node));
      }
    } else if (node.is_table() && is_prefix_of_file_key(path)) {
      walk_toml(*node.as_table(), path + ".", name, out);
    } else {
      out.errors.push_back(where + "unknown key '" + path + "'" + suggestion_for(path));
    }
  }
}

}  // namespace

std::optional<std::string> read_text_file(const std::filesystem::path& file, std::string& error) {
  std::error_code ec;
  if (std::filesystem::is_directory(file, ec)) {
    error = "is a directory";
    return std::nullopt;
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    error = "cannot be read";
    return std::nullopt;
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) {
    error = "cannot be read";
    return std::nullopt;
  }
  return std::move(buffer).str();
}

FileRead read_datajoint_json(const std::filesystem::path& file, const std::string& name) {
  FileRead out;
  std::string error;
  auto text = read_text_file(file, error);
  if (!text) {
    out.errors.push_back(name + ": " + file.string() + " " + error);
    return out;
  }
  json doc;
  try {
    doc = json::parse(*text);
  } catch (const json::parse_error& e) {
    // nlohmann reports a byte offset; a line number is what people look for.
    auto until = std::min<std::size_t>(e.byte, text->size());
    auto line = 1 + std::count(text->begin(), text->begin() + static_cast<std::ptrdiff_t>(until), '\n');
    out.errors.push_back(name + ":" + std::to_string(line) + ": not valid JSON: " + e.what());
    return out;
  }
  if (!doc.is_object()) {
    out.errors.push_back(name + ": expected a JSON object at the top");
    return out;
  }
  LineCountingBuffer buffer(*text);
  std::istream stream(&buffer);
  KeyLineRecorder recorder(buffer);
  json::sax_parse(stream, &recorder);
  flatten_json(doc, "", recorder.lines, name, out);
  return out;
}

FileRead read_toml(const std::filesystem::path& file, const std::string& name) {
  FileRead out;
  std::string error;
  auto text = read_text_file(file, error);
  if (!text) {
    out.errors.push_back(name + ": " + file.string() + " " + error);
    return out;
  }
  try {
    auto table = toml::parse(*text, file.string());
    walk_toml(table, "", name, out);
  } catch (const toml::parse_error& e) {
    out.errors.push_back(name + ":" + std::to_string(e.source().begin.line) + ": not valid TOML: " +
                         std::string(e.description()));
  }
  return out;
}

}  // namespace djproxy::config
