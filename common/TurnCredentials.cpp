#include "TurnCredentials.h"

#include <Poco/Base64Encoder.h>
#include <Poco/HMACEngine.h>
#include <Poco/SHA1Engine.h>

#include <algorithm>
#include <sstream>

namespace peerchat {

namespace {

std::string usernameOf(const std::string& name, std::uint64_t expiry)
{
    return std::to_string(expiry) + ":" + name;
}

} // namespace

TurnKey TurnCredentials::key(std::string_view secret, const std::string& name, std::uint64_t expiry)
{
    // From the bytes in place: indexd keeps the secret in locked memory, and a
    // std::string of it would leave a copy on the heap.
    Poco::HMACEngine<Poco::SHA1Engine> hmac(secret.data(), secret.size());
    hmac.update(usernameOf(name, expiry));
    const Poco::DigestEngine::Digest& digest = hmac.digest();
    TurnKey key{};
    std::copy_n(digest.begin(), key.size(), key.begin());
    return key;
}

TurnCredentials TurnCredentials::of(const std::string& name, std::uint64_t expiry, const TurnKey& key)
{
    std::ostringstream text;
    Poco::Base64Encoder encoder(text);
    encoder.rdbuf()->setLineLength(0);
    encoder.write(reinterpret_cast<const char*>(key.data()), static_cast<std::streamsize>(key.size()));
    encoder.close();
    return TurnCredentials{usernameOf(name, expiry), text.str()};
}

TurnCredentials TurnCredentials::mint(std::string_view secret, const std::string& name,
                                      std::chrono::system_clock::time_point expiry)
{
    const auto seconds =
        static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(expiry.time_since_epoch()).count());
    return of(name, seconds, key(secret, name, seconds));
}

} // namespace peerchat
