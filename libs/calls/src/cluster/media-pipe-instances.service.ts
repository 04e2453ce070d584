import { Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { InstanceRegistry } from './instance-registry.service';
import { MediaPipeService } from './media-pipe.service';

/**
 * Keeps the media pipes in step with the instance registry: announces the address other
 * instances pipe media to, and closes the pipes to instances that are gone. Apart from
 * {@link MediaPipeService} because the registry depends (through the call membership) on the
 * media plane, which depends on the pipes: one class needing both would close a DI cycle.
 */
@Injectable()
export class MediaPipeInstances implements OnModuleInit, OnApplicationShutdown {
  private unsubscribe: (() => void) | null = null;

  constructor(
    private readonly pipes: MediaPipeService,
    private readonly instances: InstanceRegistry,
  ) {}

  onModuleInit(): void {
    if (!this.pipes.enabled) return;
    this.instances.setAddress(this.pipes.settings.address);
    this.unsubscribe = this.instances.onInstanceDead((id) => this.pipes.dropInstance(id));
  }

  onApplicationShutdown(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
  }
}
