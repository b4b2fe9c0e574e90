#include "DaemonApplication.h"

#include <Poco/AutoPtr.h>
#include <Poco/ConsoleChannel.h>
#include <Poco/FormattingChannel.h>
#include <Poco/Logger.h>
#include <Poco/PatternFormatter.h>
#include <Poco/Util/HelpFormatter.h>
#include <Poco/Util/Option.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <iostream>
#include <pthread.h>
#include <sys/resource.h>
#include <thread>
#include <utility>

namespace peerchat {

DaemonApplication::DaemonApplication(std::string name, std::string loggerName, std::vector<SettingKey> keys, Help help)
    : _name(std::move(name)), _loggerName(std::move(loggerName)), _keys(std::move(keys)), _help(std::move(help))
{
}

int DaemonApplication::run(int argc, char** argv)
{
    const int rc = ServerApplication::run(argc, argv);
    if (rc != EXIT_CONFIG) return rc;
    std::cerr << _name << ": run '" << _name << " --help' to see the options" << std::endl;
    return EXIT_USAGE;
}

void DaemonApplication::defineOptions(Poco::Util::OptionSet& options)
{
    ServerApplication::defineOptions(options);
    options.addOption(Poco::Util::Option("help", "h", "show this help and exit"));
    options.addOption(Poco::Util::Option("config", "", "load settings from FILE (.properties, .ini, .json or .xml)")
                          .argument("FILE")
                          .repeatable(true));
    for (const auto& key : _keys) {
        options.addOption(Poco::Util::Option(key.flag, "", key.description + "; sets " + key.key)
                              .argument(key.argument, !key.isSwitch)
                              .repeatable(true));
    }
}

void DaemonApplication::handleOption(const std::string& name, const std::string& value)
{
    ServerApplication::handleOption(name, value);
    if (name == "help") {
        _helpRequested = true;
        displayHelp();
        stopOptionsProcessing();
        return;
    }
    if (name == "config") {
        try {
            loadConfiguration(value);
        } catch (const Poco::Exception& e) {
            if (!_usageError) _usageError = "cannot read --config " + value + ": " + e.displayText();
        }
        return;
    }
    for (const auto& key : _keys) {
        if (key.flag == name) {
            config().setString(key.key, key.isSwitch && value.empty() ? "true" : value);
            _flagKeys.insert(key.key);
            return;
        }
    }
}

void DaemonApplication::displayHelp()
{
    Poco::Util::HelpFormatter help(options());
    help.setCommand(commandName());
    help.setUsage(_help.usage);
    help.setHeader(_help.header);
    help.setFooter(_help.footer);
    help.setUnixStyle(true);
    help.format(std::cout);
}

void DaemonApplication::initialize(Application& self)
{
    ServerApplication::initialize(self);
    // A client that vanishes mid-write must cost the daemon an EPIPE, not its life.
    std::signal(SIGPIPE, SIG_IGN);
    setLogger(Poco::Logger::get(_loggerName));
    if (_helpRequested || _usageError) return;
    const Parsed<int> logLevel = readSettings(config(), _flagKeys);
    if (!logLevel) {
        _usageError = logLevel.error();
        return;
    }
    configureLogging(*logLevel);
}

void DaemonApplication::configureLogging(int level)
{
    Poco::AutoPtr<Poco::PatternFormatter> pattern(new Poco::PatternFormatter("%Y-%m-%d %H:%M:%S.%i %p %s: %t"));
    pattern->setProperty("times", "local");
    Poco::AutoPtr<Poco::FormattingChannel> channel(new Poco::FormattingChannel(pattern, new Poco::ConsoleChannel));
    Poco::Logger::setChannel("", channel);
    Poco::Logger::setLevel("", level);
    // The ready and stopping lines are what scripts wait for: always shown.
    logger().setLevel(std::max(level, static_cast<int>(Poco::Message::PRIO_NOTICE)));
}

std::string DaemonApplication::checkArguments(const std::vector<std::string>&) const
{
    return {};
}

int DaemonApplication::setupFailureCode(const Poco::Exception&) const
{
    return EXIT_UNAVAILABLE;
}

int DaemonApplication::main(const std::vector<std::string>& args)
{
    if (_helpRequested) return EXIT_OK;
    if (!_usageError) {
        if (std::string why = checkArguments(args); !why.empty()) _usageError = std::move(why);
    }
    if (_usageError) {
        std::cerr << _name << ": " << *_usageError << "\n"
                  << _name << ": run '" << _name << " --help' to see the options" << std::endl;
        return EXIT_USAGE;
    }
    return serve();
}

void DaemonApplication::stopWith(const std::string& reason, int exitCode)
{
    {
        const std::lock_guard<std::mutex> lock(_stopMutex);
        _stopReason = reason;
        _stopExitCode = exitCode;
    }
    terminate();
}

// A daemon's sockets are what it serves, and poll(2) has no ceiling on
// descriptor numbers: take every descriptor the hard limit allows rather
// than the soft limit a shell hands down (often 1024), as daemons do.
void DaemonApplication::raiseOpenFileLimit()
{
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= limit.rlim_max) return;
    const rlim_t soft = limit.rlim_cur;
    limit.rlim_cur = limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) {
        logger().warning("cannot raise the open-file limit from %lu to %lu: %s", static_cast<unsigned long>(soft),
                         static_cast<unsigned long>(limit.rlim_max), std::string(std::strerror(errno)));
        return;
    }
    logger().debug("raised the open-file limit from %lu to %lu", static_cast<unsigned long>(soft),
                   static_cast<unsigned long>(limit.rlim_max));
}

int DaemonApplication::serve()
{
    raiseOpenFileLimit();
    // Blocked before the service starts any thread (the loop's, peerd's
    // database writer): every thread inherits this mask, so SIGTERM and
    // SIGINT reach waitForTerminationRequest() instead of killing the
    // process in a thread that does not block them. A SIGTERM sent just
    // after the ready line, before the main thread waits, used to end peerd
    // with status 143 that way.
    sigset_t stopSignals;
    sigemptyset(&stopSignals);
    sigaddset(&stopSignals, SIGINT);
    sigaddset(&stopSignals, SIGQUIT);
    sigaddset(&stopSignals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stopSignals, nullptr);

    std::unique_ptr<DaemonService> service;
    try {
        service = createService();
    } catch (const Poco::Exception& e) {
        std::cerr << _name << ": " << e.message() << std::endl;
        return setupFailureCode(e);
    }

    std::thread loop([&service] { service->run(); });
    logger().notice(service->readyLine());
    waitForTerminationRequest();
    logger().notice(_name + " stopping: " + stopReason());
    service->stop();
    loop.join();
    service.reset();
    logger().notice(_name + " stopped");
    // Read after the join: a stopWith() while the service shut down still counts.
    return stopExitCode();
}

std::string DaemonApplication::stopReason()
{
    const std::lock_guard<std::mutex> lock(_stopMutex);
    return _stopReason;
}

int DaemonApplication::stopExitCode()
{
    const std::lock_guard<std::mutex> lock(_stopMutex);
    return _stopExitCode;
}

} // namespace peerchat
