/** What /digest needs besides the database: how many shards the deployment has (which process runs a digest). */
export interface DigestServices {
  shardCount: number;
}
