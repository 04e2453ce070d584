import { Controller, Get, Header, Res } from '@nestjs/common';
import type { Response } from 'express';
import { CallsMetrics } from '@app/calls';

/** `GET /metrics`: the calls module's Prometheus metrics (scrape it from inside the network). */
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: CallsMetrics) {}

  @Get()
  @Header('Cache-Control', 'no-store')
  async render(@Res() res: Response): Promise<void> {
    res.type(this.metrics.contentType).send(await this.metrics.render());
  }
}
