#include "conf/cycle.h"

#include <cstring>
#include <stdexcept>

#include "conf/parser.h"

namespace lunet::conf {

namespace {
ProcessType gType = ProcessType::kSingle;
Cycle* gCurrent = nullptr;
}  // namespace

ProcessType processType() { return gType; }
void setProcessType(ProcessType t) { gType = t; }

const char* processTypeName(ProcessType t) {
  switch (t) {
    case ProcessType::kSingle:
      return "single";
    case ProcessType::kMaster:
      return "master";
    case ProcessType::kSignaller:
      return "signaller";
    case ProcessType::kWorker:
      return "worker";
    case ProcessType::kHelper:
      return "helper";
    case ProcessType::kPrivilegedAgent:
      return "privileged agent";
  }
  return "unknown";
}

Cycle* currentCycle() { return gCurrent; }
void setCurrentCycle(Cycle* c) { gCurrent = c; }

std::string Cycle::fullPath(const std::string& path) const {
  if (!path.empty() && path[0] == '/') return path;
  return options.prefix + path;
}

std::string Cycle::fullConfPath(const std::string& path) const {
  if (!path.empty() && path[0] == '/') return path;
  return confPrefix + path;
}

CyclePtr loadCycle(const Options& opts) {
  auto cycle = std::make_unique<Cycle>();
  cycle->options = opts;
  const std::string& cf = opts.confFile;
  auto slash = cf.rfind('/');
  cycle->confPrefix = slash == std::string::npos ? opts.prefix : cf.substr(0, slash + 1);

  ParseOptions po;
  po.confPrefix = cycle->confPrefix;
  cycle->tree = opts.confText ? parseString(*opts.confText, cf, po) : parseFile(cf, po);
  if (!opts.directives.empty()) {
    auto extra = parseString(opts.directives, "command line", po);
    for (auto& n : extra) cycle->tree.push_back(std::move(n));
  }

  auto modules = allModules();
  cycle->confs.resize(modules.size());
  ConfLevel top;
  top.main.resize(modules.size(), nullptr);
  for (const Module* m : modules) {
    if (m->type != ModuleType::kHttp && m->createMain) {
      cycle->confs[m->index] = m->createMain();
      top.main[m->index] = cycle->confs[m->index].get();
      // core() works while the config is read (init_by_lua reads
      // master_process and marks the privileged agent); its defaults come
      // with the core module's initMain.
      if (m->type == ModuleType::kCore) {
        cycle->coreConf = static_cast<CoreConf*>(cycle->confs[m->index].get());
        if (opts.embedded) cycle->coreConf->masterProcess = cycle->coreConf->daemon = 0;
      }
    }
  }

  Engine engine(*cycle);
  // In the master during a reload the running cycle is still current: its
  // zones are the ones this generation may take over.
  Cycle* previous = currentCycle();
  cycle->zones.inheritFrom(previous != nullptr ? &previous->zones : nullptr);
  setCurrentCycle(cycle.get());
  try {
    engine.processBlock(cycle->tree, kMainCtx, &top);
    for (const Module* m : modules) {
      if (m->type != ModuleType::kHttp && m->initMain && cycle->confs[m->index]) {
        m->initMain(engine, cycle->confs[m->index].get());
      }
    }
    for (const Module* m : modules) {
      if (m->type != ModuleType::kHttp && m->postConfiguration) m->postConfiguration(engine);
    }
  } catch (...) {
    setCurrentCycle(previous);
    throw;
  }
  setCurrentCycle(previous);
  cycle->zones.dropPrevious();

  if (cycle->errorLog.empty()) {
    std::string path = opts.errorLog.empty() ? cycle->fullPath("logs/error.log") : opts.errorLog;
    if (path != "stderr") path = cycle->fullPath(path);
    int err = cycle->errorLog.add(path, core::Level::kError);
    if (err != 0) {
      throw std::runtime_error("open() \"" + path + "\" failed (" + std::to_string(err) + ": " +
                               std::strerror(err) + ")");
    }
  }
  return cycle;
}

}  // namespace lunet::conf
