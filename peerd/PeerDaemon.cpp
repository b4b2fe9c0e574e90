#include "PeerDaemon.h"

#include "PeerService.h"

namespace peerchat {

PeerDaemon::PeerDaemon()
    : DaemonApplication(
          "peerd", "PeerDaemon", PeerSettings::keys(),
          {"--user NAME [--index HOST:PORT] [--port P] [--bind ADDR] [--socket PATH] [--database PATH] [--config FILE] "
           "[OPTIONS]",
           "peerd, one user's peerchat daemon: logs in to indexd, keeps the roster and the conversations, talks to "
           "other peers directly over UDP, and serves any number of chatui windows on a local socket. Every setting "
           "is a key of the --config file and a flag; flags win.",
           "Runs in the foreground until SIGTERM or SIGINT, then logs out. Exit codes: 0 stopped by a signal, 1 "
           "another peerd serves this user, indexd refused the name or presents another key than the one pinned, "
           "64 bad command line or settings, 69 the identity key file is refused (readable by others, malformed) "
           "or the database or a socket could not be set up."})
{
}

Parsed<int> PeerDaemon::readSettings(const Poco::Util::AbstractConfiguration& config,
                                     const std::set<std::string>& flagKeys)
{
    auto settings = PeerSettings::read(config, flagKeys);
    if (!settings) return Parsed<int>::refuse(settings.error());
    _settings = settings.value();
    return _settings->logLevel;
}

std::string PeerDaemon::checkArguments(const std::vector<std::string>& args) const
{
    if (args.empty()) return {};
    return "unexpected argument '" + args.front() + "'";
}

std::unique_ptr<DaemonService> PeerDaemon::createService()
{
    return std::make_unique<PeerService>(*_settings,
                                         [this](const std::string& why) { stopWith(why, kExitCannotRun); });
}

int PeerDaemon::setupFailureCode(const Poco::Exception& e) const
{
    if (dynamic_cast<const Poco::ExistsException*>(&e) != nullptr) return kExitCannotRun;
    return DaemonApplication::setupFailureCode(e);
}

} // namespace peerchat
