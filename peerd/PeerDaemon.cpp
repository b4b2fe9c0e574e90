#include "PeerDaemon.h"

#include "PeerService.h"

#include <Poco/AutoPtr.h>
#include <Poco/ConsoleChannel.h>
#include <Poco/FormattingChannel.h>
#include <Poco/Logger.h>
#include <Poco/PatternFormatter.h>
#include <Poco/Util/HelpFormatter.h>
#include <Poco/Util/Option.h>

#include <csignal>
#include <iostream>
#include <memory>
#include <pthread.h>
#include <thread>

namespace peerchat {

int PeerDaemon::run(int argc, char** argv)
{
    const int rc = ServerApplication::run(argc, argv);
    if (rc != EXIT_CONFIG) return rc;
    std::cerr << "peerd: run 'peerd --help' to see the options" << std::endl;
    return EXIT_USAGE;
}

void PeerDaemon::defineOptions(Poco::Util::OptionSet& options)
{
    ServerApplication::defineOptions(options);
    options.addOption(Poco::Util::Option("help", "h", "show this help and exit"));
    options.addOption(Poco::Util::Option("config", "", "load settings from FILE (.properties, .ini, .json or .xml)")
                          .argument("FILE")
                          .repeatable(true));
    for (const auto& key : PeerSettings::keys()) {
        options.addOption(Poco::Util::Option(key.flag, "", key.description + "; sets " + key.key)
                              .argument(key.argument)
                              .repeatable(true));
    }
}

void PeerDaemon::handleOption(const std::string& name, const std::string& value)
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
    for (const auto& key : PeerSettings::keys()) {
        if (key.flag == name) {
            config().setString(key.key, value);
            _flagKeys.insert(key.key);
            return;
        }
    }
}

void PeerDaemon::displayHelp()
{
    Poco::Util::HelpFormatter help(options());
    help.setCommand(commandName());
    help.setUsage("--user NAME [--index HOST:PORT] [--port P] [--bind ADDR] [--socket PATH] [--config FILE] "
                  "[OPTIONS]");
    help.setHeader("peerd, one user's peerchat daemon: logs in to indexd, keeps the roster and the "
                   "conversations, talks to other peers directly over UDP, and serves any number of chatui "
                   "windows on a local socket. Every setting is a key of the --config file and a flag; flags win.");
    help.setFooter("Runs in the foreground until SIGTERM or SIGINT, then logs out. Exit codes: 0 stopped by a "
                   "signal, 1 another peerd serves this user or indexd refused the name, 64 bad command line or "
                   "settings, 69 a socket could not be set up.");
    help.setUnixStyle(true);
    help.format(std::cout);
    std::cout << std::endl;
}

void PeerDaemon::initialize(Application& self)
{
    ServerApplication::initialize(self);
    // A UI that vanishes mid-write must cost peerd an EPIPE, not its life.
    std::signal(SIGPIPE, SIG_IGN);
    if (_helpRequested || _usageError) return;
    auto settings = PeerSettings::read(config(), _flagKeys);
    if (!settings) {
        _usageError = settings.error();
        return;
    }
    _settings = settings.value();
    configureLogging(_settings->logLevel);
}

void PeerDaemon::configureLogging(int level)
{
    Poco::AutoPtr<Poco::PatternFormatter> pattern(new Poco::PatternFormatter("%Y-%m-%d %H:%M:%S.%i %p %s: %t"));
    pattern->setProperty("times", "local");
    Poco::AutoPtr<Poco::FormattingChannel> channel(new Poco::FormattingChannel(pattern, new Poco::ConsoleChannel));
    Poco::Logger::setChannel("", channel);
    Poco::Logger::setLevel("", level);
}

int PeerDaemon::main(const std::vector<std::string>& args)
{
    if (_helpRequested) return EXIT_OK;
    if (!_usageError && !args.empty()) _usageError = "unexpected argument '" + args.front() + "'";
    if (_usageError) {
        std::cerr << "peerd: " << *_usageError << "\npeerd: run 'peerd --help' to see the options" << std::endl;
        return EXIT_USAGE;
    }
    return serve(*_settings);
}

int PeerDaemon::serve(const PeerSettings& settings)
{
    std::unique_ptr<PeerService> service;
    try {
        service = std::make_unique<PeerService>(settings, [this] {
            _refused = true;
            terminate();
        });
    } catch (const Poco::ExistsException& e) {
        std::cerr << "peerd: " << e.message() << std::endl;
        return kExitCannotRun;
    } catch (const Poco::Exception& e) {
        std::cerr << "peerd: " << e.message() << std::endl;
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

    Poco::Logger& log = Poco::Logger::get("peerd");
    std::thread loop([&service] { service->run(); });
    log.notice(service->readyLine());
    waitForTerminationRequest();
    log.notice(_refused ? "peerd stopping: indexd refused the name" : "peerd stopping: termination requested");
    service->stop();
    loop.join();
    service.reset();
    log.notice("peerd stopped");
    return _refused ? kExitCannotRun : EXIT_OK;
}

} // namespace peerchat
