#pragma once

#include "DaemonApplication.h"
#include "IndexSettings.h"

#include <memory>
#include <optional>
#include <set>
#include <string>

namespace peerchat {

/// The indexd program: options and configuration, logging, then one
/// IndexService on a loop thread until SIGTERM or SIGINT.
class IndexServer : public DaemonApplication
{
public:
    IndexServer();

protected:
    Parsed<int> readSettings(const Poco::Util::AbstractConfiguration& config,
                             const std::set<std::string>& flagKeys) override;
    std::unique_ptr<DaemonService> createService() override;

private:
    std::optional<IndexSettings> _settings;
};

} // namespace peerchat
