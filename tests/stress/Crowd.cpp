#include "Crowd.h"

#include "Base64.h"

#include <stdexcept>

namespace peerchat::stress {

std::unique_ptr<test::SecureClient> Crowd::logIn(test::ChatNetwork& net, const std::string& name,
                                                 const std::string& bindHost)
{
    auto client = std::make_unique<test::SecureClient>(name, bindHost);
    PublicKey indexKey{};
    if (!Base64::decodeInto(net.indexKey(), indexKey)) throw std::runtime_error("indexd's key is not base64url");
    client->pinIndex(indexKey);
    const auto welcome = client->login(net.index());
    if (!welcome) throw std::runtime_error(name + " could not log in from " + bindHost + ": " + welcome.error());
    return client;
}

Crowd::Crowd(test::ChatNetwork& net, const std::string& prefix, std::size_t count, std::size_t perAddress)
{
    const auto start = std::chrono::steady_clock::now();
    for (std::size_t i = 0; i < count; ++i) {
        const std::size_t address = i / perAddress;
        const std::string host = "127.10." + std::to_string(address / 250) + "." + std::to_string(1 + address % 250);
        _users.push_back(logIn(net, prefix + std::to_string(i), host));
    }
    _loginSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

} // namespace peerchat::stress
