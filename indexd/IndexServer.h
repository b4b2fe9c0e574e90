#pragma once

#include "IndexSettings.h"

#include <Poco/Util/OptionSet.h>
#include <Poco/Util/ServerApplication.h>

#include <optional>
#include <set>
#include <string>
#include <vector>

namespace peerchat {

/// The indexd program: options and configuration, logging, then one
/// IndexService on a loop thread until SIGTERM or SIGINT.
class IndexServer : public Poco::Util::ServerApplication
{
public:
    /// Runs indexd from the command line as ServerApplication::run does,
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
    int serve(const IndexSettings& settings);

    bool _helpRequested = false;
    std::set<std::string> _flagKeys;
    std::optional<std::string> _usageError;
    std::optional<IndexSettings> _settings;
};

} // namespace peerchat
