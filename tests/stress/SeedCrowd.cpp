#include "SeedCrowd.h"

#include <chrono>
#include <stdexcept>

namespace peerchat::stress {

SeedCrowd::SeedCrowd(test::ChatNetwork& net, const std::string& prefix, std::size_t count)
{
    if (prefix.size() + std::to_string(count).size() > kNameBytes)
        throw std::invalid_argument("names of " + prefix + " and a number are longer than kNameBytes");
    const auto start = std::chrono::steady_clock::now();
    for (std::size_t i = 0; i < count; ++i) {
        const std::string number = std::to_string(i);
        const std::string name = prefix + std::string(kNameBytes - prefix.size() - number.size(), '0') + number;
        auto user = std::make_unique<test::SeedClient>();
        if (!user->login(name, net.index())) throw std::runtime_error(name + " got no Accept");
        _users.push_back(std::move(user));
    }
    _loginSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

} // namespace peerchat::stress
