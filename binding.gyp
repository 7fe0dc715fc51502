{
  # Compiles the C sources that the `secp256k1` and `keccak` packages ship, from wherever npm put them,
  # plus our native/ core; AES, HMAC and SHA-256 come from the OpenSSL inside the Node binary.
  'variables': {
    'secp_dir': '<!(node -p "require(\'path\').relative(\'.\', require(\'path\').dirname(require.resolve(\'secp256k1/package.json\')))")/src/secp256k1',
    'keccak_dir': '<!(node -p "require(\'path\').relative(\'.\', require(\'path\').dirname(require.resolve(\'keccak/package.json\')))")/src',
  },
  'targets': [
    {
      'target_name': 'ethp2p_core',
      'type': 'static_library',
      'sources': [
        # native/secp.c compiles libsecp256k1's secp256k1.c into itself
        'native/hash.c',
        'native/modinv.c',
        'native/secp.c',
        'native/packet.c',
        'native/distance.c',
      ],
      'conditions': [
        # XKCP's lane-complementing 64-bit permutation on 64-bit CPUs, bit-interleaved 32-bit elsewhere
        ['target_arch in ("x64", "arm64", "ppc64")', {
          'sources': ['<(keccak_dir)/libkeccak-64/KeccakSpongeWidth1600.c', '<(keccak_dir)/libkeccak-64/KeccakP-1600-opt64.c'],
          'include_dirs': ['<(keccak_dir)/libkeccak-64'],
          'direct_dependent_settings': {'include_dirs': ['<(keccak_dir)/libkeccak-64']},
        }, {
          'sources': ['<(keccak_dir)/libkeccak-32/KeccakSpongeWidth1600.c', '<(keccak_dir)/libkeccak-32/KeccakP-1600-inplace32BI.c'],
          'include_dirs': ['<(keccak_dir)/libkeccak-32'],
          'direct_dependent_settings': {'include_dirs': ['<(keccak_dir)/libkeccak-32']},
        }],
        ['target_arch=="x64" and OS!="win"', {
          'defines': ['HAVE___INT128=1', 'USE_ASM_X86_64=1', 'USE_FIELD_5X52=1', 'USE_SCALAR_4X64=1'],
        }, {
          'defines': ['USE_FIELD_10X26=1', 'USE_SCALAR_8X32=1'],
        }],
      ],
      'include_dirs': ['<(secp_dir)', '<(secp_dir)/src', '<(secp_dir)/include', 'native'],
      # the same configuration the secp256k1 package builds with
      'defines': [
        'ECMULT_GEN_PREC_BITS=4', 'ECMULT_WINDOW_SIZE=15', 'ENABLE_MODULE_ECDH=1', 'ENABLE_MODULE_RECOVERY=1',
        'USE_ENDOMORPHISM=1', 'USE_NUM_NONE=1', 'USE_FIELD_INV_BUILTIN=1', 'USE_SCALAR_INV_BUILTIN=1',
      ],
      'cflags': ['-O3', '-Wno-unused-function', '-Wno-nonnull-compare', '-Wno-implicit-fallthrough'],
      'cflags_c': ['-std=c99'],
    },
    {
      'target_name': 'ethp2p',
      'dependencies': ['ethp2p_core'],
      'sources': ['native/addon.cc', 'native/aes.cc', 'native/ecies.cc', 'native/frame.cc'],
      'include_dirs': [
        '<!@(node -p "require(\'node-addon-api\').include")',
        'native',
      ],
      'defines': ['NAPI_VERSION=8', 'NAPI_DISABLE_CPP_EXCEPTIONS'],
      'cflags_cc': ['-O3', '-std=c++17', '-Wno-deprecated-declarations'],
      'conditions': [
        ['OS=="mac"', {'xcode_settings': {'OTHER_CFLAGS': ['-Wno-deprecated-declarations']}}],
      ],
    },
  ],
}
