#pragma once

#include "DaemonApplication.h"
#include "PeerSettings.h"

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace peerchat {

/// The peerd program: options and configuration, logging, then one
/// PeerService on a loop thread until SIGTERM or SIGINT, or until indexd
/// refuses the name.
class PeerDaemon : public DaemonApplication
{
public:
    /// Exit code when another peerd serves the user, indexd refuses the name,
    /// or indexd presents another identity key than the one expected.
    static constexpr int kExitCannotRun = 1;

    PeerDaemon();

protected:
    Parsed<int> readSettings(const Poco::Util::AbstractConfiguration& config,
                             const std::set<std::string>& flagKeys) override;
    /// peerd takes no arguments besides its options.
    std::string checkArguments(const std::vector<std::string>& args) const override;
    std::unique_ptr<DaemonService> createService() override;
    /// kExitCannotRun when another peerd already serves the user.
    int setupFailureCode(const Poco::Exception& e) const override;

private:
    std::optional<PeerSettings> _settings;
};

} // namespace peerchat
