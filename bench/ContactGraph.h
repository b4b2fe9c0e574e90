#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace peerchat::bench {

/// The contact lists of a crowd of simulated users, drawn at random from a
/// seed: users 0..size()-1, each with degree() distinct contacts (a rare few
/// with fewer, see missingContacts()), never itself, and symmetric: when a
/// has b, b has a. The same users, degree and seed give the same graph, so
/// the measurements of a benchmark (and two runs of it) fan out over the
/// same contacts. Held as one adjacency array with offsets: 100,000 users
/// with 50 contacts take 20 MB.
class ContactGraph
{
public:
    /// One user's contacts: a view into the graph, valid while the graph lives.
    class Contacts
    {
    public:
        Contacts(const std::uint32_t* first, const std::uint32_t* last) : _first(first), _last(last) {}
        const std::uint32_t* begin() const { return _first; }
        const std::uint32_t* end() const { return _last; }
        std::size_t size() const { return static_cast<std::size_t>(_last - _first); }
        bool empty() const { return _first == _last; }
        std::uint32_t operator[](std::size_t i) const { return _first[i]; }

    private:
        const std::uint32_t* _first;
        const std::uint32_t* _last;
    };

    /// Draws the graph of users with degree contacts each from seed: degree/2
    /// random Hamiltonian cycles (each gives every user two contacts) and, for
    /// an odd degree, a random perfect matching; a pair that is already
    /// contacts is skipped, not drawn again. Throws std::invalid_argument when
    /// degree is not below users (no room for that many distinct contacts)
    /// or users do not fit in 32 bits.
    ContactGraph(std::size_t users, std::size_t degree, std::uint64_t seed);

    /// The number of users.
    std::size_t size() const { return _offsets.size() - 1; }
    /// The contacts each user was meant to have.
    std::size_t degree() const { return _degree; }
    /// The contacts of user (below size()).
    Contacts contactsOf(std::uint32_t user) const
    {
        return Contacts(_contacts.data() + _offsets[user], _contacts.data() + _offsets[user + 1]);
    }
    /// Every user's contacts counted: twice the number of contact pairs.
    std::size_t contactEntries() const { return _contacts.size(); }
    /// How many contacts short of size() x degree() the graph is: pairs a
    /// later cycle drew again, and the user a matching leaves out when there
    /// is an odd number of users.
    std::size_t missingContacts() const { return size() * _degree - _contacts.size(); }

    /// count distinct users drawn at random from seed, in random order: the
    /// users of a phase that only some take part in (10% change state), so
    /// that every measurement picks the same ones. Throws
    /// std::invalid_argument when count is above size().
    std::vector<std::uint32_t> sampleUsers(std::size_t count, std::uint64_t seed) const;

private:
    std::size_t _degree;
    std::vector<std::size_t> _offsets;     ///< user's contacts are _contacts[_offsets[user], _offsets[user + 1])
    std::vector<std::uint32_t> _contacts;
};

} // namespace peerchat::bench
