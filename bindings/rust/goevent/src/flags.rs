//! Small bit-flag types (the crate takes no dependencies, so no `bitflags`).

macro_rules! flags {
    (
        $(#[$meta:meta])*
        pub struct $name:ident($t:ty) {
            $( $(#[$fmeta:meta])* const $flag:ident = $value:expr; )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
        pub struct $name($t);

        impl $name {
            $( $(#[$fmeta])* pub const $flag: Self = Self($value); )*

            /// No flags.
            pub const fn empty() -> Self {
                Self(0)
            }

            /// The raw C value.
            pub const fn bits(self) -> $t {
                self.0
            }

            /// Flags from a raw C value (unknown bits are kept).
            pub const fn from_bits(bits: $t) -> Self {
                Self(bits)
            }

            pub const fn is_empty(self) -> bool {
                self.0 == 0
            }

            /// Whether every flag in `other` is set.
            pub const fn contains(self, other: Self) -> bool {
                self.0 & other.0 == other.0
            }

            /// Whether any flag in `other` is set.
            pub const fn intersects(self, other: Self) -> bool {
                self.0 & other.0 != 0
            }
        }

        impl std::ops::BitOr for $name {
            type Output = Self;
            fn bitor(self, rhs: Self) -> Self {
                Self(self.0 | rhs.0)
            }
        }

        impl std::ops::BitOrAssign for $name {
            fn bitor_assign(&mut self, rhs: Self) {
                self.0 |= rhs.0;
            }
        }

        impl std::ops::BitAnd for $name {
            type Output = Self;
            fn bitand(self, rhs: Self) -> Self {
                Self(self.0 & rhs.0)
            }
        }

        impl std::ops::Sub for $name {
            type Output = Self;
            fn sub(self, rhs: Self) -> Self {
                Self(self.0 & !rhs.0)
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                let mut rest = self.0;
                let mut first = true;
                f.write_str(concat!(stringify!($name), "("))?;
                $(
                    if $value != 0 && rest & $value == $value {
                        if !first { f.write_str(" | ")?; }
                        f.write_str(stringify!($flag))?;
                        rest &= !$value;
                        first = false;
                    }
                )*
                if rest != 0 {
                    if !first { f.write_str(" | ")?; }
                    write!(f, "{:#x}", rest)?;
                }
                f.write_str(")")
            }
        }
    };
}

pub(crate) use flags;
