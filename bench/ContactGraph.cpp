#include "ContactGraph.h"

#include <algorithm>
#include <limits>
#include <numeric>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>

namespace peerchat::bench {

namespace {

// A number below bound (above 0) from engine. Not std::uniform_int_distribution
// nor std::shuffle: their output differs between standard libraries, and a
// graph must be the same wherever the seed is. mt19937_64's output is fixed by
// the standard; rejecting the lowest 2^64 mod bound values leaves a range the
// modulo divides evenly.
std::uint64_t randomBelow(std::mt19937_64& engine, std::uint64_t bound)
{
    const std::uint64_t biased = (std::numeric_limits<std::uint64_t>::max() - bound + 1) % bound;
    std::uint64_t draw = engine();
    while (draw < biased) draw = engine();
    return draw % bound;
}

// Users 0..users-1 in an order drawn from engine (Fisher-Yates).
std::vector<std::uint32_t> randomPermutation(std::size_t users, std::mt19937_64& engine)
{
    std::vector<std::uint32_t> order(users);
    std::iota(order.begin(), order.end(), 0u);
    for (std::size_t i = users; i > 1; --i) std::swap(order[i - 1], order[randomBelow(engine, i)]);
    return order;
}

} // namespace

ContactGraph::ContactGraph(std::size_t users, std::size_t degree, std::uint64_t seed) : _degree(degree)
{
    if (users > std::numeric_limits<std::uint32_t>::max())
        throw std::invalid_argument("a contact graph numbers its users in 32 bits; " + std::to_string(users)
                                    + " users are too many");
    if (degree > 0 && degree >= users)
        throw std::invalid_argument(std::to_string(degree) + " distinct contacts each need at least "
                                    + std::to_string(degree + 1) + " users, not " + std::to_string(users));

    // Each user's contacts fill a row of degree slots while the graph is drawn:
    // a new pair is checked against the row (degree is small), and the rows are
    // packed into the adjacency array at the end.
    std::vector<std::uint32_t> slots(users * degree);
    std::vector<std::uint32_t> filled(users, 0);
    const auto contacts = [&](std::uint32_t a, std::uint32_t b) {
        const auto row = slots.begin() + static_cast<std::ptrdiff_t>(a * degree);
        return std::find(row, row + filled[a], b) != row + filled[a];
    };
    const auto connect = [&](std::uint32_t a, std::uint32_t b) {
        if (a == b || contacts(a, b)) return;
        slots[a * degree + filled[a]++] = b;
        slots[b * degree + filled[b]++] = a;
    };

    std::mt19937_64 engine(seed);
    for (std::size_t cycle = 0; cycle < degree / 2; ++cycle) {
        const std::vector<std::uint32_t> order = randomPermutation(users, engine);
        for (std::size_t i = 0; i < users; ++i) connect(order[i], order[(i + 1) % users]);
    }
    if (degree % 2 == 1) {
        const std::vector<std::uint32_t> order = randomPermutation(users, engine);
        for (std::size_t i = 0; i + 1 < users; i += 2) connect(order[i], order[i + 1]);
    }

    _offsets.resize(users + 1);
    _offsets[0] = 0;
    for (std::size_t user = 0; user < users; ++user) _offsets[user + 1] = _offsets[user] + filled[user];
    _contacts.resize(_offsets[users]);
    for (std::size_t user = 0; user < users; ++user) {
        const auto row = slots.begin() + static_cast<std::ptrdiff_t>(user * degree);
        std::copy(row, row + filled[user], _contacts.begin() + static_cast<std::ptrdiff_t>(_offsets[user]));
    }
}

std::vector<std::uint32_t> ContactGraph::sampleUsers(std::size_t count, std::uint64_t seed) const
{
    if (count > size())
        throw std::invalid_argument("cannot pick " + std::to_string(count) + " distinct users out of "
                                    + std::to_string(size()));
    // The first count steps of a Fisher-Yates shuffle: a uniform choice, in random order.
    std::mt19937_64 engine(seed);
    std::vector<std::uint32_t> users(size());
    std::iota(users.begin(), users.end(), 0u);
    for (std::size_t i = 0; i < count; ++i) std::swap(users[i], users[i + randomBelow(engine, size() - i)]);
    users.resize(count);
    return users;
}

} // namespace peerchat::bench
