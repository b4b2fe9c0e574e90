#pragma once

#include "DaemonService.h"
#include "Parsed.h"
#include "SettingKey.h"

#include <Poco/Exception.h>
#include <Poco/Util/AbstractConfiguration.h>
#include <Poco/Util/OptionSet.h>
#include <Poco/Util/ServerApplication.h>

#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace peerchat {

/// The ServerApplication plumbing indexd and peerd share: --help, --config
/// and one flag per settings key, errors on stderr with exit code 64, console
/// logging at the configured level, the soft open-file limit raised to the
/// hard one, then one DaemonService on a loop thread until SIGTERM or SIGINT
/// (or stopWith()). A daemon supplies its settings and its service through
/// the protected hooks.
class DaemonApplication : public Poco::Util::ServerApplication
{
public:
    /// What --help prints around the option list.
    struct Help
    {
        std::string usage;   ///< "[--port P] [OPTIONS]", after the command name
        std::string header;  ///< what the program does
        std::string footer;  ///< how it stops, and its exit codes
    };

    /// Runs the daemon from the command line as ServerApplication::run does,
    /// except that a command line POCO itself cannot parse (unknown flag,
    /// missing value) exits with EX_USAGE (64), like a bad value.
    int run(int argc, char** argv);
    // Keeps POCO's other run() overloads visible (clang warns when one hides them).
    using Poco::Util::ServerApplication::run;

protected:
    /// name prefixes every error ("indexd: ...") and the stopping lines;
    /// loggerName is the logger of the ready, stopping and stopped lines,
    /// which show at every log level; keys become the flags.
    DaemonApplication(std::string name, std::string loggerName, std::vector<SettingKey> keys, Help help);

    void initialize(Application& self) override;
    void defineOptions(Poco::Util::OptionSet& options) override;
    void handleOption(const std::string& name, const std::string& value) override;
    int main(const std::vector<std::string>& args) override;

    /// Reads and checks the settings and keeps them for createService();
    /// returns the log level they ask for, or why they were refused, naming
    /// the flag for the keys in flagKeys.
    virtual Parsed<int> readSettings(const Poco::Util::AbstractConfiguration& config,
                                     const std::set<std::string>& flagKeys) = 0;

    /// Why the arguments left after the options are refused; empty (the
    /// default, which ignores them) when they are fine.
    virtual std::string checkArguments(const std::vector<std::string>& args) const;

    /// Binds everything the daemon serves, after readSettings() succeeded;
    /// throws a Poco::Exception whose message tells a person what went wrong.
    virtual std::unique_ptr<DaemonService> createService() = 0;

    /// The exit code when createService() threw e: EX_UNAVAILABLE (69)
    /// unless a daemon says otherwise.
    virtual int setupFailureCode(const Poco::Exception& e) const;

    /// Stops the daemon as SIGTERM would, but logs "NAME stopping: reason"
    /// and exits with exitCode; safe from any thread.
    void stopWith(const std::string& reason, int exitCode);

private:
    void displayHelp();
    void configureLogging(int level);
    void raiseOpenFileLimit();
    int serve();
    std::string stopReason();
    int stopExitCode();

    const std::string _name;
    const std::string _loggerName;
    const std::vector<SettingKey> _keys;
    const Help _help;
    bool _helpRequested = false;
    std::set<std::string> _flagKeys;
    std::optional<std::string> _usageError;
    std::mutex _stopMutex;
    std::string _stopReason = "termination requested";
    int _stopExitCode = EXIT_OK;
};

} // namespace peerchat
