// sluice — the command line.
//
//   sluice run [--config FILE]           serve (embedded default without --config)
//   sluice check-config --config FILE    print each problem as file:line:col, exit 1 if any
//   sluice queue ...                     the queue tool (gateway/queue_command.hpp)
//   sluice version
#include <cstdio>
#include <cstring>
#include <ctime>
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include "gateway/config_loader.hpp"
#include "gateway/export_directories.hpp"
#include "gateway/gateway.hpp"
#include "gateway/log.hpp"
#include "gateway/queue_command.hpp"
#include "tls/certificate_expiry.hpp"
#include "tls/context_registry.hpp"

#ifndef SLUICE_VERSION
#define SLUICE_VERSION "dev"
#endif

namespace {

int usage() {
  std::cerr << "usage: sluice run [--config FILE]\n"
               "       sluice check-config --config FILE\n"
               "       sluice queue [--config FILE | --spool DIR] [--json] list|count|show|headers|body|retry|delete|flush [ID]\n"
               "       sluice version\n"
               "       sluice print-default-config\n";
  return 2;
}

sluice::gateway::ConfigLoad load(const std::string& path) {
  using namespace sluice::gateway;
  if (path.empty()) return load_config_text(embedded_default_config(), "<embedded default>");
  return load_config_file(path);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage();
  const std::string cmd = argv[1];
  if (cmd == "queue") return sluice::gateway::queue_command(std::vector<std::string>(argv + 2, argv + argc));
  std::string config_path;
  for (int i = 2; i < argc; ++i) {
    if ((std::strcmp(argv[i], "--config") == 0 || std::strcmp(argv[i], "-c") == 0) && i + 1 < argc) {
      config_path = argv[++i];
    } else {
      std::cerr << "sluice: unknown argument " << argv[i] << "\n";
      return usage();
    }
  }

  if (cmd == "version") {
    std::cout << "sluice " << SLUICE_VERSION << "\n";
    return 0;
  }
  if (cmd == "print-default-config") {
    std::cout << sluice::gateway::embedded_default_config();
    return 0;
  }
  if (cmd != "run" && cmd != "check-config") return usage();
  if (cmd == "check-config" && config_path.empty()) {
    std::cerr << "sluice: check-config needs --config FILE\n";
    return 2;
  }

  auto loaded = load(config_path);
  if (!loaded.config) {
    for (const auto& p : loaded.problems) std::cerr << p.to_string() << "\n";
    return 1;
  }
  if (cmd == "check-config") {
    // Certificates, keys, OCSP and ticket-key files too, as a start or reload would read them.
    sluice::tls::ContextRegistry tls;
    std::string tls_error;
    if (!tls.apply(*loaded.config, tls_error)) {
      std::cerr << config_path << ": tls: " << tls_error << "\n";
      return 1;
    }
    // Warnings only: an expired certificate is still served (tls/certificate_expiry.hpp).
    for (const auto& w : sluice::tls::expiry_warnings(tls.certificate_dates(), std::time(nullptr)))
      std::cerr << config_path << ": warning: tls certificate " << sluice::gateway::quoted(w.file) << " (listener "
                << w.listener << ") " << w.text() << "\n";
    // Warnings only: the queue retries until such a directory is usable.
    for (const auto& p : sluice::gateway::check_export_directories(*loaded.config))
      std::cerr << config_path << ": warning: " << p.owner << " " << sluice::gateway::quoted(p.name)
                << (p.owner == "policy" ? " quarantine" : "") << ": directory " << sluice::gateway::quoted(p.directory)
                << " " << p.problem
                << " (recipients sent there are deferred until it is usable)\n";
    std::cout << config_path << ": OK\n";
    return 0;
  }
  try {
    return sluice::gateway::run_gateway(loaded.config, config_path);
  } catch (const std::exception& e) {
    std::cerr << "sluice: cannot start: " << e.what() << "\n";
    return 1;
  }
}
