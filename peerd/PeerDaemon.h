#pragma once

#include "PeerSettings.h"

#include <Poco/Util/OptionSet.h>
#include <Poco/Util/ServerApplication.h>

#include <atomic>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace peerchat {

/// The peerd program: options and configuration, logging, then one
/// PeerService on a loop thread until SIGTERM or SIGINT, or until indexd
/// refuses the name.
class PeerDaemon : public Poco::Util::ServerApplication
{
public:
    /// Exit code when another peerd serves the user or indexd refuses the name.
    static constexpr int kExitCannotRun = 1;

    /// Runs peerd from the command line as ServerApplication::run does,
    /// except that a command line POCO itself cannot parse (unknown flag,
    /// missing value) exits with EX_USAGE (64), like a bad value.
    int run(int argc, char** argv);

protected:
    void initialize(Application& self) override;
    void defineOptions(Poco::Util::OptionSet& options) override;
    void handleOption(const std::string& name, const std::string& value) override;
    int main(const std::vector<std::string>& args) override;

private:
    void displayHelp();
    void configureLogging(int level);
    int serve(const PeerSettings& settings);

    bool _helpRequested = false;
    std::set<std::string> _flagKeys;
    std::optional<std::string> _usageError;
    std::optional<PeerSettings> _settings;
    std::atomic<bool> _refused{false};
};

} // namespace peerchat
