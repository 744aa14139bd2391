// cxx_prog N -- C++ allocations: operator new and delete, new[] and
// delete[], std::vector and std::string, all reaching malloc and free.
// N objects of 6000 bytes through new (a class nothing else here uses),
// N arrays of 9000 bytes through new[]; half of each deleted.
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

struct Blob {
    char bytes[6000];
};

int main(int argc, char **argv)
{
    long n = argc > 1 ? std::atol(argv[1]) : 100;
    std::vector<Blob *> blobs;
    std::vector<char *> arrays;
    blobs.reserve(static_cast<size_t>(n));
    arrays.reserve(static_cast<size_t>(n));
    for (long i = 0; i < n; i++) {
        blobs.push_back(new Blob());
        arrays.push_back(new char[9000]);
    }
    for (long i = 0; i < n / 2; i++) {
        delete blobs[static_cast<size_t>(i)];
        delete[] arrays[static_cast<size_t>(i)];
    }
    std::string s(100000, 'x');
    std::unique_ptr<int[]> ints(new int[100]);
    std::printf("n=%ld blob=6000 array=9000 deleted=%ld len=%zu\n", n, n / 2, s.size());
    return 0;
}
