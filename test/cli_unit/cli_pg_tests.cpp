// The PostgreSQL sink's socket-free parts: the URI rules, the COPY encoding, the segments
// statement, the reconnect backoff, and the options that select or refuse a database output.
#include "cli/backfill_plan.hpp"
#include "cli/db_command.hpp"
#include "cli_test_support.hpp"
#include "sink/pg/held_rows.hpp"
#include "sink/pg/host_lookup.hpp"
#include "sink/pg/identifier.hpp"
#include "sink/pg/reconnect_backoff.hpp"
#include "sink/pg/sql.hpp"
#include "sink/pg/target.hpp"
#include "sink/pg/work_queue.hpp"

#include <boost/test/unit_test.hpp>

#include <bit>
#include <cstdlib>
#include <optional>
#include <span>
#include <string_view>

using namespace dynjobs;
using namespace dynjobs::cli;
using namespace dynjobs::cli::test;
using namespace dynjobs::sink::pg;
using namespace std::chrono_literals;

namespace {

const timestamp now = at("2026-06-15T12:00:00Z");

backfill_plan resolve(const args& a, const environment& env = env_of({})) {
    return resolve_backfill(parse_backfill_options(a.span()), now, env);
}

} // namespace

BOOST_AUTO_TEST_SUITE(cli_pg)

BOOST_AUTO_TEST_CASE(postgres_schemes_are_recognised_and_files_are_not) {
    BOOST_TEST(is_postgres_uri("postgresql://u@h/db"));
    BOOST_TEST(is_postgres_uri("postgres://u@h/db"));
    BOOST_TEST(!is_postgres_uri("jobs.jsonl"));
    BOOST_TEST(!is_postgres_uri("/data/postgresql://x"));
}

BOOST_AUTO_TEST_CASE(a_password_is_removed_from_userinfo_and_query) {
    BOOST_TEST(without_password("postgresql://u:s3cret@h:5432/db") == "postgresql://u@h:5432/db");
    BOOST_TEST(without_password("postgresql://u@h/db?password=s3cret&sslmode=require") ==
               "postgresql://u@h/db?sslmode=require");
    BOOST_TEST(without_password("postgresql://h/db?sslmode=require&password=s3cret") ==
               "postgresql://h/db?sslmode=require");
    BOOST_TEST(without_password("postgresql://u@h/db") == "postgresql://u@h/db");
    // An @ in the path is not userinfo.
    BOOST_TEST(without_password("postgresql://h/d:b@x") == "postgresql://h/d:b@x");
}

BOOST_AUTO_TEST_CASE(a_usable_uri_passes_libpqs_parser) {
    BOOST_TEST(!check_uri("--output", "postgresql://u@127.0.0.1:5432/db?sslmode=disable"));
    BOOST_TEST(!check_uri("--output", "postgres://u@[::1]/db"));
}

BOOST_AUTO_TEST_CASE(a_malformed_uri_names_the_option_and_the_value) {
    const auto message = check_uri("--output", "postgresql://u@h/db?bogus=1");
    BOOST_TEST_REQUIRE(message.has_value());
    check_names(*message, {"--output", "postgresql://u@h/db?bogus=1", "bogus"});
    const auto bracket = check_uri("--output", "postgresql://[::1/db");
    BOOST_TEST_REQUIRE(bracket.has_value());
    check_names(*bracket, {"--output", "[::1/db"});
}

BOOST_AUTO_TEST_CASE(a_password_in_the_uri_is_refused_without_echoing_it) {
    for (const auto* uri : {"postgresql://u:s3cret@h/db", "postgresql://u@h/db?password=s3cret"}) {
        const auto message = check_uri("--output", uri);
        BOOST_TEST_REQUIRE(message.has_value(), uri);
        check_names(*message, {"--output", "password", "PGPASSWORD", "--pg-password-file"});
        BOOST_TEST(message->find("s3cret") == std::string::npos, *message);
    }
}

BOOST_AUTO_TEST_CASE(no_spelling_of_a_password_reaches_a_message) {
    // libpq's parse errors quote the token they could not read; libpq decodes parameter names,
    // so pass%77ord is password.
    for (const auto* uri :
         {"postgresql://u:s3cr%zzet@h/db", "postgresql://u:s3c%00ret@h/db",
          "postgresql://u@h/db?password=s3%zzcret",
          "postgresql://u@h/db?password=s3%00cret&sslmode=require",
          "postgresql://u@h/db?pass%77ord=s3cret",
          "postgresql://u@h/db?sslmode=require&pass%77ord=s3cret",
          "postgresql://u@h/db?pass%zzword=s3cret", "postgresql://u:s3cret@h/db?bogus=1"}) {
        const auto message = check_uri("--output", uri);
        BOOST_TEST_REQUIRE(message.has_value(), uri);
        check_names(*message, {"--output"});
        BOOST_TEST(message->find("s3") == std::string::npos, *message);
        BOOST_TEST(message->find("cret") == std::string::npos, *message);
        const auto shown = without_password(uri);
        BOOST_TEST(shown.find("s3") == std::string::npos, shown);
        BOOST_TEST(shown.find("cret") == std::string::npos, shown);
    }
    const auto spelled = check_uri("--output", "postgresql://u@h/db?pass%77ord=s3cret");
    check_names(*spelled, {"a password in the URI", "postgresql://u@h/db"});
    const auto bad_escape = check_uri("--output", "postgresql://u:s3cr%zzet@h/db");
    check_names(*bad_escape, {"postgresql://u@h/db", "percent-encoded"});
    // What is not a password is still named.
    check_names(*check_uri("--output", "postgresql://u:s3cret@h/db?bogus=1"), {"bogus"});
    BOOST_TEST(without_password("postgresql://u@h:5433/db?pass%77ord=x&sslmode=require") ==
               "postgresql://u@h:5433/db?sslmode=require");
    BOOST_TEST(without_password("postgres://u@[::1]:5432/db") == "postgres://u@[::1]:5432/db");
}

BOOST_AUTO_TEST_CASE(schema_names_are_plain_identifiers) {
    BOOST_TEST(is_plain_identifier("dynjobs"));
    BOOST_TEST(is_plain_identifier("_reports_2"));
    BOOST_TEST(!is_plain_identifier(""));
    BOOST_TEST(!is_plain_identifier("2reports"));
    BOOST_TEST(!is_plain_identifier("Reports"));
    BOOST_TEST(!is_plain_identifier("a\"; DROP TABLE x; --"));
    BOOST_TEST(!is_plain_identifier(std::string(64, 'a')));
    BOOST_TEST(is_plain_identifier(std::string(63, 'a')));
}

namespace {

// Reads COPY binary tuples back: per tuple, each field's bytes (nullopt for a null field).
std::vector<std::vector<std::optional<std::string>>> read_tuples(std::string_view data) {
    const auto take = [&](std::size_t bytes) {
        BOOST_TEST_REQUIRE(data.size() >= bytes);
        std::uint64_t v = 0;
        for (std::size_t i = 0; i < bytes; ++i)
            v = v << 8 | static_cast<unsigned char>(data[i]);
        data.remove_prefix(bytes);
        return v;
    };
    std::vector<std::vector<std::optional<std::string>>> tuples;
    while (!data.empty()) {
        const auto fields = take(2);
        std::vector<std::optional<std::string>> tuple;
        for (std::uint64_t f = 0; f < fields; ++f) {
            const auto length = static_cast<std::int32_t>(take(4));
            if (length < 0) {
                tuple.emplace_back();
                continue;
            }
            BOOST_TEST_REQUIRE(data.size() >= static_cast<std::size_t>(length));
            tuple.emplace_back(std::string(data.substr(0, static_cast<std::size_t>(length))));
            data.remove_prefix(static_cast<std::size_t>(length));
        }
        tuples.push_back(std::move(tuple));
    }
    return tuples;
}

// A field's big-endian bytes as a number.
std::int64_t be_value(const std::optional<std::string>& field) {
    BOOST_TEST_REQUIRE(field.has_value());
    std::uint64_t v = 0;
    for (const char c : *field)
        v = v << 8 | static_cast<unsigned char>(c);
    if (field->size() == 4)
        return static_cast<std::int32_t>(static_cast<std::uint32_t>(v));
    return static_cast<std::int64_t>(v);
}

} // namespace

BOOST_AUTO_TEST_CASE(copy_rows_are_binary_tuples_of_the_columns_types) {
    std::string out;
    append_copy_row(out, awkward_job(), 7);
    append_copy_row(out, running_job(), 8);
    const auto tuples = read_tuples(out);
    BOOST_TEST_REQUIRE(tuples.size() == 2u);
    const auto& f = tuples[0];
    BOOST_TEST_REQUIRE(f.size() == job_columns().size() + 1);
    // Text as it is: no escaping in the binary format.
    BOOST_TEST(*f[0] == "Customer Engagement, \"CE\"");
    BOOST_TEST(*f[2] == "DCIB2022081903124382222110");
    BOOST_TEST(*f[18] == "3f2504e0-4f89-41d3-9a0c-0305e82c3301");
    BOOST_TEST(*f[19] == "Contoso\r\nNorth, Zürich \xF0\x9F\x93\xA6");
    // integer columns take 4 bytes, bigint 8, as the staging table declares them.
    for (std::size_t i = 0; i < job_columns().size(); ++i) {
        const auto& type = job_columns()[i].type;
        if (type == "integer")
            BOOST_TEST(f[i]->size() == 4u, job_columns()[i].name);
        if (type == "bigint" || type == "timestamp with time zone" || type == "double precision")
            BOOST_TEST(f[i]->size() == 8u, job_columns()[i].name);
    }
    BOOST_TEST(be_value(f[1]) == 1);
    BOOST_TEST(be_value(f[6]) == 7);
    BOOST_TEST(be_value(f[17]) == 9'876'543'210);
    // Timestamps: microseconds since 2000-01-01T00:00:00Z.
    BOOST_TEST(be_value(f[3]) == 762'596'130'250'000);
    BOOST_TEST(be_value(f[4]) == 762'601'500'000'000);
    BOOST_TEST(std::bit_cast<double>(static_cast<std::uint64_t>(be_value(f[5]))) ==
               1.4915277777777778);
    BOOST_TEST(be_value(f.back()) == 7); // seq: the upsert keeps a job's last staged version
    // A running job: no finish time, no duration.
    BOOST_TEST(!tuples[1][4].has_value());
    BOOST_TEST(!tuples[1][5].has_value());
    BOOST_TEST(be_value(tuples[1].back()) == 8);
}

BOOST_AUTO_TEST_CASE(copy_rows_replace_nul_and_keep_any_int32_type_and_status) {
    auto j = running_job();
    j.module = std::string("Ex\0change", 9);
    j.organization_name = std::string(1, '\0');
    j.type = static_cast<job_type>(70'000);
    j.status = static_cast<job_status>(-2'147'483'647 - 1);
    std::string out;
    append_copy_row(out, j, 1);
    const auto tuples = read_tuples(out);
    BOOST_TEST_REQUIRE(tuples.size() == 1u);
    const auto& f = tuples[0];
    BOOST_TEST(*f[0] == "Ex\xEF\xBF\xBD"
                        "change");
    BOOST_TEST(*f[19] == "\xEF\xBF\xBD");
    BOOST_TEST(be_value(f[1]) == 70'000);
    BOOST_TEST(be_value(f[6]) == -2'147'483'647 - 1);
    // The columns hold every int32 the decoder accepts.
    for (const auto& c : job_columns())
        if (c.name == "type" || c.name == "status")
            BOOST_TEST(c.type == "integer");
}

// Every piece a copy_reader gives, joined.
std::string read_copy(std::span<const held_rows> parts) {
    copy_reader reader(parts);
    std::string out;
    for (auto piece = reader.next(); !piece.empty(); piece = reader.next())
        out += piece;
    return out;
}

BOOST_AUTO_TEST_CASE(a_copy_stream_is_header_tuples_trailer) {
    std::string rows;
    append_copy_row(rows, running_job(), 1);
    held_rows held;
    held.append(running_job(), 1);
    const auto stream = read_copy(std::span(&held, 1));
    BOOST_TEST(stream.size() == 19 + rows.size() + 2);
    BOOST_TEST((stream.substr(0, 11) == std::string("PGCOPY\n\xFF\r\n\0", 11)));
    BOOST_TEST((stream.substr(11, 8) == std::string(8, '\0'))); // no OIDs, no extension
    BOOST_TEST(stream.substr(19, rows.size()) == rows);
    BOOST_TEST(stream.substr(stream.size() - 2) == "\xFF\xFF");
    BOOST_TEST(copy_sql().ends_with("FROM STDIN (FORMAT binary)"));
}

// A huge window's rows move to a temporary file as they come: every row reaches COPY once,
// from the file and from memory, across parts and across pieces of 256 KiB.
BOOST_AUTO_TEST_CASE(held_rows_spilled_to_a_file_are_copied_whole) {
    scratch_dir dir;
    std::string expected;
    std::vector<held_rows> parts;
    std::uint64_t seq = 0;
    for (int part = 0; part < 3; ++part) {
        parts.emplace_back(dir.path().string());
        for (int i = 0; i < 3000; ++i) {
            auto j = running_job();
            j.job_id = "J" + std::to_string(part) + "-" + std::to_string(i);
            append_copy_row(expected, j, ++seq);
            parts.back().append(j, seq);
            if (part != 1 && i % 1000 == 999) { // part 1 stays in memory
                std::error_code error;
                BOOST_TEST_REQUIRE(parts.back().spill(error), error.message());
                BOOST_TEST(parts.back().memory_bytes() == 0u);
            }
        }
    }
    BOOST_TEST(parts[0].spilled_bytes() > 256u << 10); // read back in more than one piece
    BOOST_TEST(parts[1].spilled_bytes() == 0u);
    const auto stream = read_copy(parts);
    BOOST_TEST_REQUIRE(stream.size() == copy_header.size() + expected.size() + copy_trailer.size());
    BOOST_TEST((stream.substr(copy_header.size(), expected.size()) == expected));
    BOOST_TEST(read_copy({}) == std::string(copy_header) + std::string(copy_trailer));
}

// No file can be made (a missing folder, a full disk): nothing is lost, the rows stay in memory.
BOOST_AUTO_TEST_CASE(held_rows_that_cannot_spill_stay_whole_in_memory) {
    scratch_dir dir;
    held_rows held((dir.path() / "missing").string());
    held.append(running_job(), 1);
    const auto memory = held.memory_bytes();
    std::error_code error;
    BOOST_TEST(!held.spill(error));
    BOOST_TEST((error == std::errc::no_such_file_or_directory), error.message());
    BOOST_TEST(held.memory_bytes() == memory);
    BOOST_TEST(held.spilled_bytes() == 0u);
    std::string rows;
    append_copy_row(rows, running_job(), 1);
    BOOST_TEST((read_copy(std::span(&held, 1)).substr(copy_header.size(), rows.size()) == rows));
    held.clear();
    BOOST_TEST(held.empty());
}

BOOST_AUTO_TEST_CASE(segments_statement_numbers_seven_parameters_per_segment) {
    const auto sql = segments_sql("dynjobs", 2);
    BOOST_TEST(sql.find("($1, $2, $3, $4, $5, now(), $6, $7), ($8, $9, $10, $11, $12, now(), "
                        "$13, $14)") != std::string::npos);
    BOOST_TEST(sql.find("$15") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(the_selection_hash_changes_with_any_option_value) {
    const selection a{{"--type", "0"}, {"--since", "90d"}};
    const selection b{{"--type", "0"}, {"--since", "91d"}};
    BOOST_TEST(selection_hash(a) == selection_hash(a));
    BOOST_TEST(selection_hash(a) != selection_hash(b));
    BOOST_TEST(selection_hash(a).size() == 64u);
}

BOOST_AUTO_TEST_CASE(backoff_doubles_up_to_its_ceiling_and_ends_at_the_deadline) {
    reconnect_backoff b(100ms, 400ms, 1000ms);
    BOOST_TEST(b.next(0ms)->count() == 100);
    BOOST_TEST(b.next(100ms)->count() == 200);
    BOOST_TEST(b.next(300ms)->count() == 400);
    BOOST_TEST(b.next(700ms)->count() == 300); // cut to end at the deadline
    BOOST_TEST(!b.next(1000ms).has_value());
    b.reset();
    BOOST_TEST(b.next(0ms)->count() == 100);
}

BOOST_AUTO_TEST_CASE(a_database_output_resolves_to_a_target_without_checkpoint_file) {
    scratch_dir dir;
    const auto password = dir.write("pw", "\xEF\xBB\xBFp4ss word \r\n");
    const auto p = resolve({"--output", "postgresql://u@h/db", "--pg-schema", "reports",
                            "--pg-password-file", password, "--pg-retry-for", "2.5"});
    BOOST_TEST_REQUIRE(p.pg.has_value());
    BOOST_TEST(p.pg->uri == "postgresql://u@h/db");
    BOOST_TEST(p.pg->schema == "reports");
    BOOST_TEST(p.pg->password.value_or("") == "p4ss word");
    BOOST_TEST(p.pg->retry_for.count() == 2500);
    BOOST_TEST(p.checkpoint_path.empty());
    for (const auto& [option, value] : p.chosen)
        BOOST_TEST((option != "--output" && option != "--format"), option);
}

BOOST_AUTO_TEST_CASE(database_options_and_file_options_do_not_mix) {
    const auto with_checkpoint = usage_message([] {
        resolve({"--output", "postgresql://u@h/db", "--checkpoint", "x.ckpt"});
    });
    check_names(with_checkpoint, {"--checkpoint", "segments"});
    const auto with_csv = usage_message([] {
        resolve({"--output", "postgresql://u@h/db", "--format", "csv"});
    });
    check_names(with_csv, {"--format csv"});
    const auto schema_for_file = usage_message([] {
        resolve({"--output", "-", "--pg-schema", "x"});
    });
    check_names(schema_for_file, {"--pg-schema", "postgresql://"});
    const auto bad_schema = usage_message([] {
        resolve({"--output", "postgresql://u@h/db", "--pg-schema", "Bad-Name"});
    });
    check_names(bad_schema, {"--pg-schema", "Bad-Name"});
    const auto missing_file = usage_message([] {
        resolve({"--output", "postgresql://u@h/db", "--pg-password-file", "/nonexistent"});
    });
    check_names(missing_file, {"--pg-password-file", "/nonexistent"});
}

BOOST_AUTO_TEST_CASE(worker_mode_needs_a_database_and_takes_a_lease) {
    const auto p = resolve({"--output", "postgresql://u@h/db", "--worker", "--lease", "7.5"});
    BOOST_TEST(p.worker);
    BOOST_TEST(p.lease.count() == 7500);
    BOOST_TEST(resolve({"--output", "postgresql://u@h/db", "--worker"}).lease.count() == 60'000);
    BOOST_TEST(!resolve({"--output", "postgresql://u@h/db"}).worker);
    check_names(usage_message([] {
                    resolve({"--output", "jobs.jsonl", "--worker"});
                }),
                {"--worker", "postgresql://"});
    check_names(usage_message([] {
                    resolve({"--output", "postgresql://u@h/db", "--lease", "30"});
                }),
                {"--lease", "--worker"});
    check_names(usage_message([] {
                    resolve({"--output", "postgresql://u@h/db", "--worker", "--resume"});
                }),
                {"--worker", "--resume"});
    check_names(usage_message([] {
                    resolve({"--output", "postgresql://u@h/db", "--worker", "--lease", "0.5"});
                }),
                {"--lease", "0.5"});
}

BOOST_AUTO_TEST_CASE(db_command_needs_an_action_and_a_database) {
    check_names(usage_message([] {
                    parse_db_options(args{"--output", "postgresql://h/d"}.span());
                }),
                {"init", "status"});
    check_names(usage_message([] {
                    parse_db_options(args{"drop", "--output", "postgresql://h/d"}.span());
                }),
                {"drop"});
    check_names(usage_message([] { parse_db_options(args{"status"}.span()); }), {"--output"});
    check_names(usage_message([] {
                    parse_db_options(args{"init", "--output", "jobs.jsonl"}.span());
                }),
                {"--output", "jobs.jsonl"});
    const auto o = parse_db_options(
        args{"status", "--output", "postgres://u@h/d", "--pg-schema", "reports"}.span());
    BOOST_TEST(o.action == "status");
    BOOST_TEST(o.schema == "reports");
}

// The host names libpq would look up with a blocking getaddrinfo, and the options that give it
// addresses instead.
struct unset_pg_host_environment {
    unset_pg_host_environment() {
        for (const char* name : {"PGHOST", "PGHOSTADDR", "PGPORT", "PGSERVICE"})
            ::unsetenv(name);
    }
};

BOOST_AUTO_TEST_CASE(only_host_names_need_a_lookup) {
    BOOST_TEST(needs_lookup("db.example.com"));
    BOOST_TEST(needs_lookup("localhost"));
    BOOST_TEST(!needs_lookup("127.0.0.1"));
    BOOST_TEST(!needs_lookup("::1"));
    BOOST_TEST(!needs_lookup("fe80::1"));
    BOOST_TEST(!needs_lookup("/var/run/postgresql"));
    BOOST_TEST(!needs_lookup("@abstract"));
    BOOST_TEST(!needs_lookup(""));
}

BOOST_FIXTURE_TEST_CASE(hosts_of_a_uri_with_names_are_looked_up_with_their_ports,
                        unset_pg_host_environment) {
    const auto one = hosts_to_look_up("postgresql://u@db.example.com/jobs");
    BOOST_TEST_REQUIRE(one.has_value());
    BOOST_TEST(one->hosts == std::vector<std::string>{"db.example.com"});
    BOOST_TEST(one->ports == std::vector<std::string>{"5432"}); // libpq's default

    // One port for every host, or one each; the numeric host is kept for libpq.
    const auto two = hosts_to_look_up("postgresql://u@10.0.0.1,db.example.com:6432/jobs");
    BOOST_TEST_REQUIRE(two.has_value());
    BOOST_TEST((two->hosts == std::vector<std::string>{"10.0.0.1", "db.example.com"}));
    BOOST_TEST((two->ports == std::vector<std::string>{"5432", "6432"}));
    const auto shared = hosts_to_look_up("postgresql://u@a.example,b.example:7000/jobs");
    BOOST_TEST_REQUIRE(shared.has_value());
    BOOST_TEST((shared->ports == std::vector<std::string>{"5432", "7000"}));
    const auto query = hosts_to_look_up("postgresql:///jobs?host=a.example,b.example&port=7000");
    BOOST_TEST_REQUIRE(query.has_value());
    BOOST_TEST((query->ports == std::vector<std::string>{"7000", "7000"}));
}

BOOST_FIXTURE_TEST_CASE(nothing_is_looked_up_without_names_or_with_addresses_given,
                        unset_pg_host_environment) {
    BOOST_TEST(!hosts_to_look_up("postgresql://u@127.0.0.1:5432/jobs"));
    BOOST_TEST(!hosts_to_look_up("postgresql://u@[::1]/jobs"));
    BOOST_TEST(!hosts_to_look_up("postgresql:///jobs?host=/var/run/postgresql"));
    BOOST_TEST(!hosts_to_look_up("postgresql:///jobs")); // libpq's default socket
    BOOST_TEST(!hosts_to_look_up("postgresql://u@db.example.com/jobs?hostaddr=10.0.0.5"));
    BOOST_TEST(!hosts_to_look_up("postgresql://u@db.example.com/jobs?service=prod"));
    BOOST_TEST(
        !hosts_to_look_up("postgresql://u@db.example.com:1,2,3/jobs?host=a,b")); // libpq says why
    BOOST_TEST(!hosts_to_look_up("not a uri"));
}

BOOST_FIXTURE_TEST_CASE(the_environment_counts_as_libpq_reads_it, unset_pg_host_environment) {
    ::setenv("PGHOST", "db.example.com", 1);
    ::setenv("PGPORT", "6543", 1);
    const auto from_env = hosts_to_look_up("postgresql:///jobs");
    BOOST_TEST_REQUIRE(from_env.has_value());
    BOOST_TEST(from_env->hosts == std::vector<std::string>{"db.example.com"});
    BOOST_TEST(from_env->ports == std::vector<std::string>{"6543"});
    // The URI's own host wins over PGHOST.
    BOOST_TEST(!hosts_to_look_up("postgresql://u@127.0.0.1/jobs"));
    ::setenv("PGHOSTADDR", "10.0.0.7", 1);
    BOOST_TEST(!hosts_to_look_up("postgresql:///jobs"));
    ::unsetenv("PGHOSTADDR");
    ::setenv("PGSERVICE", "prod", 1);
    BOOST_TEST(!hosts_to_look_up("postgresql:///jobs"));
    unset_pg_host_environment{};
}

BOOST_AUTO_TEST_CASE(every_address_of_a_name_is_an_entry_and_other_hosts_stay_as_they_are) {
    host_list hosts;
    hosts.hosts = {"/var/run/postgresql", "db.example.com", "10.0.0.1"};
    hosts.ports = {"5432", "6432", "7432"};
    const auto options = with_addresses(hosts, {{}, {"::1", "127.0.0.1"}, {}});
    BOOST_TEST(options.host == "/var/run/postgresql,db.example.com,db.example.com,10.0.0.1");
    BOOST_TEST(options.hostaddr == ",::1,127.0.0.1,");
    BOOST_TEST(options.port == "5432,6432,6432,7432");
}

// A segment too big at its first page: cut into equal spans of about --split-above jobs each.
BOOST_AUTO_TEST_CASE(a_big_segment_is_cut_into_equal_whole_second_spans) {
    const work_item item{"tenant-a", "org", at("2024-01-01T00:00:00Z"), at("2024-01-15T00:00:00Z"),
                         1,          1};
    BOOST_TEST(split_windows(item, 20'000, 20'000).empty()); // not above
    BOOST_TEST(split_windows(item, 0, 20'000).empty());
    const auto pieces = split_windows(item, 50'001, 20'000);
    BOOST_TEST_REQUIRE(pieces.size() == 3u); // ceil(50,001 / 20,000)
    BOOST_TEST((pieces.front().start == item.start));
    BOOST_TEST((pieces.back().finish == item.finish));
    for (std::size_t i = 0; i < pieces.size(); ++i) {
        BOOST_TEST(pieces[i].tenant == "tenant-a");
        BOOST_TEST(pieces[i].organization == "org");
        BOOST_TEST(pieces[i].claims == 0);
        if (i > 0)
            BOOST_TEST((pieces[i].start == pieces[i - 1].finish));
        BOOST_TEST(
            std::chrono::duration_cast<std::chrono::milliseconds>(pieces[i].start - item.start)
                    .count() %
                1000 ==
            0);
    }
    BOOST_TEST(format_iso8601(pieces[1].start) == "2024-01-05T16:00:00Z"); // 14 days / 3
}

BOOST_AUTO_TEST_CASE(no_piece_is_shorter_than_a_minute) {
    const work_item minutes{"", "", at("2024-01-01T00:00:00Z"), at("2024-01-01T00:03:30Z"), 1, 1};
    BOOST_TEST(split_windows(minutes, 1'000'000, 100).size() == 3u); // not 10,000
    const work_item short_one{"", "", at("2024-01-01T00:00:00Z"), at("2024-01-01T00:01:59Z"), 1, 1};
    BOOST_TEST(split_windows(short_one, 1'000'000, 100).empty()); // one minute's piece only
}

BOOST_AUTO_TEST_SUITE_END()
