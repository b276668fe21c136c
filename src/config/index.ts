// The config layer's public surface; other layers import from here.

export { ConfigError } from './errors.js';
export {
  CONFIG_FILE_NAME,
  PROJECT_FILE_NAME,
  configPath,
  loadConfig,
  loadGlobalConfig,
  loadProjectFile,
  orchHome,
  resolveProjectSettings,
  type LoadedGlobalConfig,
  type LoadedProjectFile,
} from './load.js';
export { DEFAULT_LINEAR_API_URL, DEFAULT_LINEAR_READY_STATES, DEFAULT_LINEAR_STATE_MAP } from './defaults.js';
export { addProjectToConfig, getConfigValue, removeProjectFromConfig, writeInitialConfig } from './edit.js';
export {
  AGENT_KINDS,
  PROJECT_MODES,
  type AgentConfig,
  type AgentKind,
  type Command,
  type GitHubTrackerConfig,
  type GlobalConfigFile,
  type LinearTrackerConfig,
  type ModelPrice,
  type OrchConfig,
  type ProjectConfig,
  type ProjectEntryFile,
  type ProjectFile,
  type ProjectMode,
  type ProjectSettings,
  type SchedulerConfig,
  type ServerConfig,
  type TrackerConfig,
} from './schema.js';
