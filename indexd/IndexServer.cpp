#include "IndexServer.h"

#include "IndexService.h"

namespace peerchat {

IndexServer::IndexServer()
    : DaemonApplication(
          "indexd", "IndexServer", IndexSettings::keys(),
          {"[--port P] [--bind ADDR] [--key FILE] [--legacy] [--config FILE] [OPTIONS]",
           "indexd, peerchat's index daemon: takes authenticated logins (and, with --legacy, the seed's plain "
           "ones) over UDP, tells online users who comes and goes, signed with its identity key, and serves the "
           "signed roster over TCP. Chat goes peer to peer, encrypted end to end; indexd only holds sealed "
           "letters for peerchat users who are offline until they log in. Every setting is a key of the --config "
           "file and a flag; flags win.",
           "Runs in the foreground until SIGTERM or SIGINT. Exit codes: 0 stopped by a signal, 64 bad command line "
           "or settings, 69 the identity key could not be read or made (or other users can read it), a socket "
           "could not be bound, the database opened, the --turn host resolved or the --turn-secret-file read (or "
           "other users can read it)."})
{
}

Parsed<int> IndexServer::readSettings(const Poco::Util::AbstractConfiguration& config,
                                      const std::set<std::string>& flagKeys)
{
    auto settings = IndexSettings::read(config, flagKeys);
    if (!settings) return Parsed<int>::refuse(settings.error());
    _settings = settings.value();
    return _settings->logLevel;
}

std::unique_ptr<DaemonService> IndexServer::createService()
{
    return std::make_unique<IndexService>(*_settings);
}

} // namespace peerchat
