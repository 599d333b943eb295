/* migrations.h — the SQL migrations in sql/, compiled into the binary by
 * cmake/embed_sql.cmake (generated migrations.c). Ordered by version. */
#ifndef HPT_MIGRATIONS_H
#define HPT_MIGRATIONS_H

typedef struct hpt_migration {
  int version;      /* NNN from sql/NNN_name.sql */
  const char *name; /* name */
  const char *sql;  /* the file's text */
} hpt_migration_t;

extern const hpt_migration_t hpt_migrations[];
extern const int hpt_migrations_count;

#endif
