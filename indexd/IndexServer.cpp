#include "IndexServer.h"

#include "IndexService.h"

#include <Poco/AutoPtr.h>
#include <Poco/ConsoleChannel.h>
#include <Poco/FormattingChannel.h>
#include <Poco/Logger.h>
#include <Poco/PatternFormatter.h>
#include <Poco/Util/HelpFormatter.h>
#include <Poco/Util/Option.h>

#include <algorithm>
#include <csignal>
#include <iostream>
#include <pthread.h>
#include <thread>

namespace peerchat {

int IndexServer::run(int argc, char** argv)
{
    const int rc = ServerApplication::run(argc, argv);
    if (rc != EXIT_CONFIG) return rc;
    std::cerr << "indexd: run 'indexd --help' to see the options" << std::endl;
    return EXIT_USAGE;
}

void IndexServer::defineOptions(Poco::Util::OptionSet& options)
{
    ServerApplication::defineOptions(options);
    options.addOption(Poco::Util::Option("help", "h", "show this help and exit"));
    options.addOption(Poco::Util::Option("config", "", "load settings from FILE (.properties, .ini, .json or .xml)")
                          .argument("FILE")
                          .repeatable(true));
    for (const auto& key : IndexSettings::keys()) {
        options.addOption(Poco::Util::Option(key.flag, "", key.description + "; sets " + key.key)
                              .argument(key.argument)
                              .repeatable(true));
    }
}

void IndexServer::handleOption(const std::string& name, const std::string& value)
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
    for (const auto& key : IndexSettings::keys()) {
        if (key.flag == name) {
            config().setString(key.key, value);
            _flagKeys.insert(key.key);
            return;
        }
    }
}

void IndexServer::displayHelp()
{
    Poco::Util::HelpFormatter help(options());
    help.setCommand(commandName());
    help.setUsage("[--port P] [--bind ADDR] [--config FILE] [OPTIONS]");
    help.setHeader("indexd, peerchat's index daemon: takes logins and logouts over UDP, tells online users who "
                   "comes and goes, and serves the roster over TCP. It never carries chat. Every setting is a "
                   "key of the --config file and a flag; flags win.");
    help.setFooter("Runs in the foreground until SIGTERM or SIGINT. Exit codes: 0 stopped by a signal, "
                   "64 bad command line or settings, 69 a socket could not be bound.");
    help.setUnixStyle(true);
    help.format(std::cout);
}

void IndexServer::initialize(Application& self)
{
    ServerApplication::initialize(self);
    setLogger(Poco::Logger::get("IndexServer"));
    if (_helpRequested || _usageError) return;
    auto settings = IndexSettings::read(config(), _flagKeys);
    if (!settings) {
        _usageError = settings.error();
        return;
    }
    _settings = settings.value();
    configureLogging(_settings->logLevel);
}

void IndexServer::configureLogging(int level)
{
    Poco::AutoPtr<Poco::PatternFormatter> pattern(new Poco::PatternFormatter("%Y-%m-%d %H:%M:%S.%i %p %s: %t"));
    pattern->setProperty("times", "local");
    Poco::AutoPtr<Poco::FormattingChannel> channel(new Poco::FormattingChannel(pattern, new Poco::ConsoleChannel));
    Poco::Logger::setChannel("", channel);
    Poco::Logger::setLevel("", level);
    // The ready and stopping lines are what scripts wait for: always shown.
    logger().setLevel(std::max(level, static_cast<int>(Poco::Message::PRIO_NOTICE)));
}

int IndexServer::main(const std::vector<std::string>&)
{
    if (_helpRequested) return EXIT_OK;
    if (_usageError) {
        std::cerr << "indexd: " << *_usageError << "\nindexd: run 'indexd --help' to see the options" << std::endl;
        return EXIT_USAGE;
    }
    return serve(*_settings);
}

int IndexServer::serve(const IndexSettings& settings)
{
    std::unique_ptr<IndexService> service;
    try {
        service = std::make_unique<IndexService>(settings);
    } catch (const Poco::IOException& e) {
        std::cerr << "indexd: " << e.message() << std::endl;
        return EXIT_UNAVAILABLE;
    }

    // The loop thread inherits this mask, so SIGTERM and SIGINT reach
    // waitForTerminationRequest() instead of killing the process there.
    sigset_t stopSignals;
    sigemptyset(&stopSignals);
    sigaddset(&stopSignals, SIGINT);
    sigaddset(&stopSignals, SIGQUIT);
    sigaddset(&stopSignals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stopSignals, nullptr);

    std::thread loop([&service] { service->run(); });
    logger().notice(service->readyLine());
    waitForTerminationRequest();
    logger().notice("indexd stopping: termination requested");
    service->stop();
    loop.join();
    service.reset();
    logger().notice("indexd stopped");
    return EXIT_OK;
}

} // namespace peerchat
