// docs/directives/ against the directive tables: every directive a module
// declares has a section in its module's page, every section names a real
// directive of that page's modules, and the Context line says what the
// table's context bits say. Keeps the reference true in both directions.
//
// Page format (see docs/directives/README.md): a `Module: `name`[, `name`]`
// line names the modules the page documents; each directive is a
// `## name` heading followed by `Syntax:`, `Default:` and `Context:` lines
// (and `Phase:` for the *_by_lua* handlers).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "conf/module.h"

namespace {

namespace fs = std::filesystem;
using lunet::conf::Module;

const fs::path kDocsDir = fs::path(LUNET_SOURCE_DIR) / "docs" / "directives";

struct Section {
  std::string name;
  std::string file;
  int line = 0;
  std::map<std::string, std::string> fields;  // "Syntax" -> rest of the line
};

struct Page {
  std::string file;
  std::vector<std::string> modules;
  std::vector<Section> sections;
};

std::string trim(std::string s) {
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\\')) {
    s.pop_back();
  }
  size_t i = 0;
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) i++;
  return s.substr(i);
}

// The names in backticks on a "Module:" line.
std::vector<std::string> backticked(const std::string& s) {
  std::vector<std::string> out;
  size_t i = 0;
  while ((i = s.find('`', i)) != std::string::npos) {
    size_t j = s.find('`', i + 1);
    if (j == std::string::npos) break;
    out.push_back(s.substr(i + 1, j - i - 1));
    i = j + 1;
  }
  return out;
}

Page parsePage(const fs::path& path) {
  Page p;
  p.file = path.filename().string();
  std::ifstream in(path);
  std::string raw;
  int lineNo = 0;
  bool inFence = false;
  static const char* const kFields[] = {"Syntax", "Default", "Context", "Phase"};
  while (std::getline(in, raw)) {
    lineNo++;
    std::string line = trim(raw);
    if (line.rfind("```", 0) == 0) {
      inFence = !inFence;
      continue;
    }
    if (inFence) continue;
    if (line.rfind("Module:", 0) == 0 && p.sections.empty()) {
      p.modules = backticked(line);
      continue;
    }
    if (line.rfind("## ", 0) == 0) {
      Section s;
      s.name = trim(line.substr(3));
      s.file = p.file;
      s.line = lineNo;
      p.sections.push_back(std::move(s));
      continue;
    }
    if (p.sections.empty()) continue;
    for (const char* f : kFields) {
      std::string key = std::string(f) + ":";
      if (line.rfind(key, 0) == 0 && !p.sections.back().fields.count(f)) {
        p.sections.back().fields[f] = trim(line.substr(key.size()));
      }
    }
  }
  return p;
}

std::vector<Page> loadPages() {
  std::vector<Page> pages;
  if (!fs::is_directory(kDocsDir)) return pages;
  for (const auto& e : fs::directory_iterator(kDocsDir)) {
    if (e.path().extension() != ".md" || e.path().filename() == "README.md") continue;
    pages.push_back(parsePage(e.path()));
  }
  std::sort(pages.begin(), pages.end(),
            [](const Page& a, const Page& b) { return a.file < b.file; });
  return pages;
}

// The Context line a directive's bits call for, in a fixed order.
std::string contextLine(uint32_t bits) {
  using namespace lunet::conf;
  static const std::pair<uint32_t, const char*> kNames[] = {
      {kMainCtx, "main"},
      {kEventsCtx, "events"},
      {kHttpMainCtx, "http"},
      {kHttpSrvCtx, "server"},
      {kHttpLocCtx, "location"},
      {kHttpSifCtx, "if in server"},
      {kHttpLifCtx, "if in location"},
      {kHttpUpsCtx, "upstream"},
      {kHttpLmtCtx, "limit_except"},
      {kStreamMainCtx, "stream"},
      {kStreamSrvCtx, "server in stream"},
  };
  std::string out;
  for (const auto& [bit, name] : kNames) {
    if (!(bits & bit)) continue;
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

std::string joinLines(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += "\n  " + s;
  return out;
}

class DirectiveDocs : public ::testing::Test {
 protected:
  void SetUp() override {
    pages_ = loadPages();
    ASSERT_FALSE(pages_.empty()) << "no pages in " << kDocsDir;
    for (const Page& p : pages_) {
      for (const std::string& m : p.modules) pageOf_[m].push_back(&p);
    }
  }

  // The section documenting `name` of module `m`, or null.
  const Section* find(const Module& m, std::string_view name) const {
    auto it = pageOf_.find(std::string(m.name));
    if (it == pageOf_.end()) return nullptr;
    for (const Page* p : it->second) {
      for (const Section& s : p->sections) {
        if (s.name == name) return &s;
      }
    }
    return nullptr;
  }

  std::vector<Page> pages_;
  std::map<std::string, std::vector<const Page*>> pageOf_;
};

TEST_F(DirectiveDocs, EveryModuleHasAPage) {
  std::vector<std::string> missing;
  for (const Module* m : lunet::conf::allModules()) {
    if (!pageOf_.count(std::string(m->name))) missing.push_back(std::string(m->name));
  }
  EXPECT_TRUE(missing.empty())
      << "modules with no page in docs/directives/ (add a `Module: `name`` "
         "line to a page):"
      << joinLines(missing);
}

TEST_F(DirectiveDocs, EveryDirectiveIsDocumented) {
  std::vector<std::string> missing;
  size_t total = 0;
  for (const Module* m : lunet::conf::allModules()) {
    for (const auto& d : m->directives) {
      total++;
      if (find(*m, d.name) == nullptr) {
        missing.push_back(std::string(d.name) + "  (module " + std::string(m->name) + ")");
      }
    }
  }
  EXPECT_GT(total, 0u);
  EXPECT_TRUE(missing.empty()) << missing.size()
                               << " directive(s) without a `## name` section in the page of "
                                  "their module in docs/directives/:"
                               << joinLines(missing);
}

TEST_F(DirectiveDocs, EveryHeadingIsADirective) {
  std::vector<std::string> extra;
  std::vector<std::string> dups;
  for (const Page& p : pages_) {
    std::set<std::string> seen;
    for (const Section& s : p.sections) {
      if (!seen.insert(s.name).second)
        dups.push_back(p.file + ":" + std::to_string(s.line) + " " + s.name);
      bool real = false;
      for (const Module* m : lunet::conf::allModules()) {
        if (std::find(p.modules.begin(), p.modules.end(), m->name) == p.modules.end()) continue;
        for (const auto& d : m->directives) real |= d.name == s.name;
      }
      if (!real) extra.push_back(p.file + ":" + std::to_string(s.line) + " " + s.name);
    }
  }
  EXPECT_TRUE(extra.empty()) << "headings that are not directives of the page's modules:"
                             << joinLines(extra);
  EXPECT_TRUE(dups.empty()) << "directives documented twice on one page:" << joinLines(dups);
}

TEST_F(DirectiveDocs, SectionsHaveSyntaxDefaultContext) {
  std::vector<std::string> bad;
  for (const Page& p : pages_) {
    for (const Section& s : p.sections) {
      std::string where = p.file + ":" + std::to_string(s.line) + " " + s.name;
      for (const char* f : {"Syntax", "Default", "Context"}) {
        auto it = s.fields.find(f);
        if (it == s.fields.end() || it->second.empty())
          bad.push_back(where + ": no " + f + ": line");
      }
      bool luaHandler = s.name.find("_by_lua") != std::string::npos;
      if (luaHandler && !s.fields.count("Phase")) bad.push_back(where + ": no Phase: line");
    }
  }
  EXPECT_TRUE(bad.empty()) << joinLines(bad);
}

TEST_F(DirectiveDocs, ContextLinesMatchTables) {
  std::vector<std::string> bad;
  for (const Module* m : lunet::conf::allModules()) {
    for (const auto& d : m->directives) {
      const Section* s = find(*m, d.name);
      if (s == nullptr) continue;  // reported by EveryDirectiveIsDocumented
      auto it = s->fields.find("Context");
      std::string have = it == s->fields.end() ? "" : it->second;
      std::string want = contextLine(d.contexts);
      if (have != want) {
        bad.push_back(s->file + ":" + std::to_string(s->line) + " " + s->name + ": \"" + have +
                      "\", the table says \"" + want + "\"");
      }
    }
  }
  EXPECT_TRUE(bad.empty()) << "Context lines that disagree with the directive tables:"
                           << joinLines(bad);
}

TEST_F(DirectiveDocs, IndexLinksEveryPage) {
  std::ifstream in(kDocsDir / "README.md");
  ASSERT_TRUE(in) << "docs/directives/README.md is missing";
  std::stringstream ss;
  ss << in.rdbuf();
  std::string index = ss.str();
  std::vector<std::string> missing;
  for (const Page& p : pages_) {
    if (index.find("(" + p.file + ")") == std::string::npos) missing.push_back(p.file);
  }
  EXPECT_TRUE(missing.empty()) << "pages not linked from docs/directives/README.md:"
                               << joinLines(missing);
}

}  // namespace
